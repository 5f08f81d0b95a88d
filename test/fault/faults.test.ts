// The fault matrix (issue 9): EIO, short reads and an early end of data under every reader, and a
// real full disk (ENOSPC on a tmpfs) at each file of an export. After each: no partial file under a
// final name, the dump never invalidated without a complete verified archive, and the audit log says
// what happened.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Kvm } from '../../core/kvm.ts';
import { MemorySource } from '../../core/source.ts';
import { buildDumpImage } from '../fixtures/dump-image.ts';
import { FaultySource, type Faults } from '../fixtures/faulty-source.ts';
import { auditLines, expectedCore, isInvalidated, run, sha256, dumpsRemovedAfterEach, type DumpOnDisk } from '../unit/savecore-fixture.ts';

const dump = dumpsRemovedAfterEach();
const PAGE = 4096;

describe('libkvm over a failing source', () => {
  const img = buildDumpImage({ flavour: 'amd64', seed: 31 });
  const bytes = img.toBytes();
  const open = (faults: Faults) => Kvm.open({ dump: new FaultySource(new MemorySource(bytes), faults), kernel: new MemorySource(img.kernel) });

  it('EIO at the header: mkheader -1, "Pread: Input/output error", errno and offset recorded', async () => {
    const kd = await open({ eio: { start: img.facts.dumpOff, end: img.facts.dumpOff + 8 } });
    expect(await kd.mkheader(img.facts.dumpOff)).toBe(-1);
    expect(kd.geterr()).toMatch(/Input\/output error/);
    expect(kd.lastFault).toMatchObject({ errno: 'EIO' });
  });

  it('EIO under a page of memory: kvm_read stops with the error, never returns made-up bytes', async () => {
    const sym = img.facts.symbols.hostname;
    const kd = await open({ eio: { start: sym.fileOff, end: sym.fileOff + 1 } });
    expect(await kd.mkheader(img.facts.dumpOff)).toBe(img.facts.headerSize);
    const buf = new Uint8Array(16).fill(0xee);
    const n = await kd.read(sym.va, buf);
    expect(n).toBeLessThan(16);
    expect(kd.geterr()).toMatch(/kvm_read: Input\/output error/);
  });

  it('short reads are looped over: the same bytes as a healthy source', async () => {
    const kd = await open({ shortReads: 3 });
    expect(await kd.mkheader(img.facts.dumpOff)).toBe(img.facts.headerSize);
    const sym = img.facts.symbols.hostname;
    const buf = new Uint8Array(sym.bytes.length);
    expect(await kd.read(sym.va, buf)).toBe(buf.length);
    expect(Buffer.from(buf).equals(Buffer.from(sym.bytes))).toBe(true);
  });

  it('an early end of data: a short count or a failed translation, never bytes past the end', async () => {
    const sym = img.facts.symbols.hostname;
    const kd = await open({ eofAt: sym.fileOff + 4 });
    expect(await kd.mkheader(img.facts.dumpOff)).toBe(img.facts.headerSize);
    const buf = new Uint8Array(16);
    const n = await kd.read(sym.va, buf);
    // 4 when the page tables lie before the cut; -1 (their entries unreadable) when after.
    expect([4, -1]).toContain(n);
    if (n === -1) expect(kd.geterr()).toMatch(/_kvm_kvatop/);
    else expect(Buffer.from(buf.subarray(0, 4)).equals(Buffer.from(sym.bytes.subarray(0, 4)))).toBe(true);
  });
});

/** What must hold after any failed or interrupted export. */
function expectEvidenceSafe(d: DumpOnDisk): void {
  const names = readdirSync(d.crashDir);
  const expected = expectedCore(d.img, d.original);
  for (const n of names) {
    if (/^netbsd\.\d+\.core$/.test(n)) expect(sha256(readFileSync(join(d.crashDir, n)))).toBe(sha256(expected)); // never partial
    if (/^netbsd\.\d+$/.test(n)) expect(sha256(readFileSync(join(d.crashDir, n)))).toBe(sha256(d.img.kernel));
    if (/^netbsd\.\d+\.manifest\.json$/.test(n)) expect(() => JSON.parse(readFileSync(join(d.crashDir, n), 'utf8'))).not.toThrow();
  }
  if (isInvalidated(d)) {
    // invalidated ⇒ a complete, verified archive exists
    const manifests = names.filter((n) => /^netbsd\.\d+\.manifest\.json$/.test(n));
    expect(manifests.length).toBeGreaterThan(0);
    const b = manifests[0].split('.')[1];
    for (const f of [`netbsd.${b}.core`, `netbsd.${b}`, `netbsd.${b}.report.txt`]) expect(existsSync(join(d.crashDir, f))).toBe(true);
  }
}

describe('savecore over a failing device', () => {
  for (const [what, faults, expectSaved] of [
    ['EIO in the middle of memory', (d: DumpOnDisk) => ({ eio: { start: d.img.facts.memOff + (5 << 20), end: d.img.facts.memOff + (5 << 20) + 512 } }), false],
    ['short reads of 1000 bytes', () => ({ shortReads: 1000 }), true],
    ['data ending halfway through memory', (d: DumpOnDisk) => ({ eofAt: d.img.facts.memOff + (4 << 20) }), false],
  ] as const) {
    it(`${what}: ${expectSaved ? 'saved and invalidated' : 'not invalidated, no partial file, the audit log says why'}`, async () => {
      const d = dump({ flavour: 'amd64', seed: 32 });
      const r = await run(d, { keep: false }, { hooks: { wrapDevice: (src) => new FaultySource(src, faults(d)) } });
      expectEvidenceSafe(d);
      if (expectSaved) {
        expect([r.status, r.exitCode]).toEqual(['saved', 0]);
        expect(isInvalidated(d)).toBe(true);
      } else {
        expect(r.exitCode).toBe(1);
        expect(isInvalidated(d)).toBe(false);
        expect(auditLines(d).map((l) => l.action)).not.toContain('invalidate');
        expect(auditLines(d).length).toBeGreaterThan(0);
      }
    });
  }
});

const mounts: string[] = [];
afterEach(() => {
  while (mounts.length) {
    try { execFileSync('umount', [mounts.pop()!]); } catch { /* gone */ }
  }
});

function mountTmpfs(dir: string, pages: number): string | null {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${pages * PAGE}`, 'tmpfs', dir], { stdio: 'pipe' });
    mounts.push(dir);
    return null;
  } catch (e) {
    return (e as Error).message.split('\n')[0];
  }
}

describe('a full disk (ENOSPC, real tmpfs) at each file of an export', () => {
  // Pages each file takes, from a run with room; the export writes them in this order.
  const order = ['bounds', 'core', 'kernel', 'audit', 'report', 'manifest', 'manifest-rewrite'] as const;
  let sizes: Record<string, number> | null = null;
  const pagesOf = async () => {
    if (sizes) return sizes;
    const probe = dump({ flavour: 'amd64', seed: 33 });
    expect((await run(probe, { keep: false })).status).toBe('saved');
    const p = (n: string) => Math.ceil(statSync(join(probe.crashDir, n)).size / PAGE);
    sizes = { bounds: 1, core: p('netbsd.0.core'), kernel: p('netbsd.0'), audit: 1, report: p('netbsd.0.report.txt'), manifest: p('netbsd.0.manifest.json') };
    sizes['manifest-rewrite'] = sizes.manifest;
    return sizes;
  };

  for (const [i, file] of order.entries()) {
    it(`no room at the ${file}: evidence safe${file === 'manifest-rewrite' ? ', the next run reconciles' : ', dump valid, exit 1, the file named'}`, async (ctx) => {
      const s = await pagesOf();
      const before = order.slice(0, i).reduce((n, f) => n + s[f], 0);
      const d = dump({ flavour: 'amd64', seed: 33 });
      rmSync(d.crashDir, { recursive: true });
      // Everything before this file fits (plus the bounds lock's page), this one does not.
      const why = mountTmpfs(d.crashDir, Math.max(1, before + s[file] - 1 + (file === 'bounds' ? 1 : 0)));
      if (why) {
        if (process.env.CI) throw new Error(`cannot mount a tmpfs: ${why}`);
        ctx.skip();
        return;
      }
      const r = await run(d, { keep: false });
      expectEvidenceSafe(d);
      expect(readdirSync(d.crashDir).filter((n) => n.includes('.partial-'))).toEqual([]);
      expect(r.exitCode).toBe(1);
      if (file === 'manifest-rewrite') {
        expect(isInvalidated(d)).toBe(true); // the archive was complete and verified before the write
        expect(auditLines(d).map((l) => l.action)).toContain('invalidate');
        expect(JSON.parse(readFileSync(join(d.crashDir, 'netbsd.0.manifest.json'), 'utf8')).invalidation.status).toBe('pending');
        // The archive moves to a disk with room (as an analyst would copy it); the next run there reconciles.
        const roomy = join(d.root, 'roomy');
        execFileSync('cp', ['-a', d.crashDir, roomy]);
        const next = await run(d, { directory: roomy, keep: true });
        expect(next.status).toBe('no-dump');
        expect(JSON.parse(readFileSync(join(roomy, 'netbsd.0.manifest.json'), 'utf8')).invalidation)
          .toMatchObject({ status: 'invalidated', reconciled: { how: 'the audit log recorded the outcome' } });
        return;
      }
      expect(isInvalidated(d)).toBe(false);
      const text = r.messages.map((m) => m.message).join('\n');
      expect(text).toMatch(/No space left on device|not written|incomplete|could not record/);
    });
  }
});
