// savecore job, happy paths: byte-exact netbsd.N.core on amd64, i386 and aarch64, the kernel copy,
// manifest, audit log, invalidation, -z, scanning, --keep.

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  auditLines, expectedCore, headerLength, isInvalidated, messagesOf, NOW, readImage, run, sha256, writeDump,
  dumpsRemovedAfterEach,
} from './savecore-fixture.ts';

const dump = dumpsRemovedAfterEach();

describe('savecore job: byte-exact archive', () => {
  for (const flavour of ['amd64', 'i386', 'aarch64'] as const) {
    it(`${flavour}: core, kernel, bounds, manifest, audit, invalidation, second run`, async () => {
      const d = dump({ flavour, seed: 11, triage: { panicstr: 'kernel diagnostic assertion "x != NULL" failed' } });
      const expected = expectedCore(d.img, d.original);
      const r = await run(d);
      expect(messagesOf(r)).toContain(`reboot after panic: kernel diagnostic assertion "x != NULL" failed`);
      expect([r.status, r.exitCode]).toEqual(['saved', 0]);

      const core = new Uint8Array(readFileSync(join(d.crashDir, 'netbsd.0.core')));
      expect(core.length).toBe(expected.length);
      expect(sha256(core)).toBe(sha256(expected));
      expect(Buffer.compare(readFileSync(join(d.crashDir, 'netbsd.0')), Buffer.from(d.img.kernel))).toBe(0);
      expect(readFileSync(join(d.crashDir, 'bounds'), 'utf8')).toBe('1\n');
      expect(statSync(join(d.crashDir, 'netbsd.0.core')).mode & 0o777).toBe(0o600);
      expect(statSync(join(d.crashDir, 'netbsd.0')).mode & 0o777).toBe(0o600);
      expect(messagesOf(r)).toContain(`writing core to ${join(d.crashDir, 'netbsd.0.core')}`);
      expect(messagesOf(r)).toContain(`writing kernel to ${join(d.crashDir, 'netbsd.0')}`);

      // the dump: only dumpmag's long is zeroed
      expect(isInvalidated(d)).toBe(true);
      const after = readImage(d);
      const mag = d.img.facts.symbols.dumpmag.fileOff;
      const longSize = d.img.facts.layout.longSize;
      expect(r.invalidation).toEqual({ status: 'invalidated', offset: mag, length: longSize, error: null });
      const restored = after.slice();
      restored.set(d.original.subarray(mag, mag + longSize), mag);
      expect(sha256(restored)).toBe(sha256(d.original));

      // manifest
      const m = JSON.parse(readFileSync(join(d.crashDir, 'netbsd.0.manifest.json'), 'utf8'));
      const D = headerLength(d.img);
      const dumpbytes = d.img.facts.dumpsizePages * 4096;
      expect(m.bounds).toBe(0);
      expect(m.dump).toMatchObject({
        dumpOffset: d.img.facts.dumpOff, memoryOffset: d.img.facts.memOff, headerSize: d.img.facts.headerSize,
        dumpsizePages: d.img.facts.dumpsizePages, pageSize: 4096, dumpbytes, dumpmag: '0x8fca0101', referenceDumpmag: '0x8fca0101',
        memorySha256: sha256(expected.subarray(D)),
      });
      expect(m.files.core).toMatchObject({ name: 'netbsd.0.core', size: expected.length, sha256: sha256(expected), headerLength: D, compressed: false });
      expect(m.files.kernel).toMatchObject({ name: 'netbsd.0', size: d.img.kernel.length, sha256: sha256(d.img.kernel) });
      expect(m.machine.name).toBe(flavour);
      expect(m.kernel.version).toBe(d.img.facts.kernelData.strings.version);
      expect(m.dumpKernelVersion).toBe(d.img.facts.kernelData.strings.version);
      expect(m.versionMismatch).toBe(false);
      expect(m.panic.message).toBe('kernel diagnostic assertion "x != NULL" failed');
      expect(m.crashTime.epoch).toBe(NOW - 3600);
      expect(m.bootTime.epoch).toBe(NOW - 3600 - 86400 * 3 - 1234);
      const st = statSync(d.device);
      expect(m.device).toMatchObject({ path: d.device, ino: st.ino, dev: st.dev, size: st.size, kind: 'file' });
      expect(m.verification.core.ok).toBe(true);
      expect(m.invalidation).toMatchObject({ status: 'invalidated', offset: mag, length: longSize });
      expect(m.missing.symbols).toEqual(expect.arrayContaining(['time', 'ksyms_symsz', 'ksyms_hdr']));
      expect(m.tool).toMatch(/^kvmdump-workbench /);
      expect(m.options).toMatchObject({ compress: false, keep: false, pageSize: 4096 });
      const report = readFileSync(join(d.crashDir, 'netbsd.0.report.txt'), 'utf8');
      expect(m.files.report).toMatchObject({ name: 'netbsd.0.report.txt', sha256: sha256(Buffer.from(report)) });

      // audit log
      const actions = auditLines(d).map((l) => l.action);
      expect(actions).toEqual(['verify', 'save', 'invalidate-intent', 'invalidate']);
      const inval = auditLines(d)[3];
      expect(inval).toMatchObject({ device: d.device, dumpOffset: d.img.facts.dumpOff, offset: mag, memorySha256: sha256(expected.subarray(D)) });

      // no temporary files left
      expect(readdirSync(d.crashDir).filter((n) => n.includes('.partial-'))).toEqual([]);

      // a second run: the dump is gone
      const again = await run(d);
      expect([again.status, again.exitCode]).toEqual(['no-dump', 1]);
      expect(messagesOf(again)).toContain('no core dump');
      expect(readFileSync(join(d.crashDir, 'bounds'), 'utf8')).toBe('1\n');
    });
  }

  it('-z: gzip -t accepts both files; they decompress to the exact core and kernel', async () => {
    const d = dump({ flavour: 'amd64', seed: 12, memMiB: 24 });
    const expected = expectedCore(d.img, d.original);
    const r = await run(d, { compress: true, gzipChunkSize: 1 << 20, keep: true });
    expect([r.status, r.exitCode]).toEqual(['saved', 0]);
    const corePath = join(d.crashDir, 'netbsd.0.core.gz');
    const kernelPath = join(d.crashDir, 'netbsd.0.gz');
    execFileSync('gunzip', ['-t', corePath, kernelPath]);
    const core = gunzipSync(readFileSync(corePath));
    expect(core.length).toBe(expected.length);
    expect(sha256(core)).toBe(sha256(expected));
    expect(sha256(execFileSync('gunzip', ['-c', corePath], { maxBuffer: 1 << 30 }))).toBe(sha256(expected));
    expect(Buffer.compare(gunzipSync(readFileSync(kernelPath)), Buffer.from(d.img.kernel))).toBe(0);
    expect(messagesOf(r)).toContain(`writing compressed core to ${corePath}`);
    expect(messagesOf(r)).toContain(`writing compressed kernel to ${kernelPath}`);
    expect(isInvalidated(d)).toBe(false); // --keep
    expect(r.invalidation?.status).toBe('skipped');
    const m = JSON.parse(readFileSync(join(d.crashDir, 'netbsd.0.manifest.json'), 'utf8'));
    expect(m.files.core).toMatchObject({ name: 'netbsd.0.core.gz', compressed: true, sha256: sha256(readFileSync(corePath)) });
    expect(m.dump.memorySha256).toBe(sha256(expected.subarray(headerLength(d.img))));
    expect(m.invalidation.status).toBe('skipped');
    // --keep left the dump valid: the next run numbers its files 1
    const again = await run(d, { compress: true, level: 9 });
    expect(again.bounds).toBe(1);
    expect(sha256(gunzipSync(readFileSync(join(d.crashDir, 'netbsd.1.core.gz'))))).toBe(sha256(expected));
    expect(isInvalidated(d)).toBe(true);
  });

  it('-Z 0 (stored) still verifies', async () => {
    const d = dump({ flavour: 'i386', seed: 2 });
    const r = await run(d, { compress: true, level: 0 });
    expect(r.exitCode).toBe(0);
    expect(sha256(gunzipSync(readFileSync(join(d.crashDir, 'netbsd.0.core.gz'))))).toBe(sha256(expectedCore(d.img, d.original)));
  });

  it('without --dump-offset the device is scanned', async () => {
    const d = dump({ flavour: 'aarch64', seed: 4, dumplo: 200 });
    const r = await run(d, { dumpOffset: undefined });
    expect([r.status, r.dumpOffset]).toEqual(['saved', 200 * 512]);
    expect(r.candidates).toHaveLength(1);
    expect(auditLines(d).map((l) => l.action)).toEqual(['scan', 'verify', 'save', 'invalidate-intent', 'invalidate']);
    expect(sha256(readFileSync(join(d.crashDir, 'netbsd.0.core')))).toBe(sha256(expectedCore(d.img, d.original)));
  });

  it('several dumps on one device: listed, and nothing is done until one is chosen', async () => {
    const d = dump({ flavour: 'amd64', seed: 5 }, (bytes, img) => {
      // a second (older) header further on, sector aligned, inside the memory area
      const at = img.facts.memOff + 0x200000;
      bytes.set(bytes.subarray(img.facts.dumpOff, img.facts.dumpOff + img.facts.headerSize), at - (at % 512));
    });
    const r = await run(d, { dumpOffset: undefined });
    expect([r.status, r.exitCode]).toEqual(['choose-dump', 1]);
    expect(r.candidates!.length).toBe(2);
    expect(messagesOf(r).join('\n')).toMatch(/2 dumps found .*--dump-offset/);
    expect(existsSync(join(d.crashDir, 'bounds'))).toBe(false);
    expect(isInvalidated(d)).toBe(false);
  });

  it('scan finding nothing: "no core dump", exit 1', async () => {
    const d = dump({ flavour: 'amd64', seed: 6, corrupt: 'bad-magic' });
    const r = await run(d, { dumpOffset: undefined });
    expect([r.status, r.exitCode]).toEqual(['no-dump', 1]);
    expect(messagesOf(r)).toEqual(['no core dump']);
  });

  it('a dump of 2 GiB or more gets the (int32) c_size and the page size is an option', async () => {
    const d = dump({ flavour: 'amd64', seed: 7 });
    const r = await run(d, { pageSize: 8192, keep: true, force: true });
    // twice the bytes: the device ends early, as savecore would report
    expect(messagesOf(r)).toEqual(expect.arrayContaining(['WARNING: EOF on dump device', 'WARNING: core may be incomplete']));
    expect(r.exitCode).toBe(1);
    expect(readdirSync(d.crashDir).sort()).toEqual(['bounds', 'kvmdump-audit.log']);
    const { cIntOf } = await import('../../main/jobs/savecore/save.ts');
    expect(cIntOf(3 * 2 ** 30)).toBe(-(2 ** 30));
    expect(cIntOf(5 * 2 ** 30) >>> 0).toBe(2 ** 30);
  });
});
