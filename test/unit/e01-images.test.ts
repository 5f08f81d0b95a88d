// E01 images made by ewfacquire (unattended) from raw disk images, and split raw images (.001, …):
// bytes read through our readers equal ewfexport's output at random offsets; the stored MD5/SHA-1
// verify; the dump is found in the right partition; savecore from the E01 writes the same core as
// from the raw disk; nothing is ever written to an E01; damaged segment files are clear errors.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EwfSource, segmentName } from '../../core/e01/ewf.ts';
import { adler32 } from '../../core/e01/zlib.ts';
import { readPartitionMap } from '../../core/partitions/index.ts';
import { runSavecore } from '../../main/jobs/savecore/job.ts';
import { openSource } from '../../main/sources/node-source.ts';
import { isImageSet, verifyImage } from '../../main/sources/image-set.ts';
import { kvmdump } from '../fixtures/cli.ts';
import { FileSource } from '../fixtures/file-source.ts';
import { haveTools, run, toolPath } from '../fixtures/disk-tools.ts';
import { placeDump, sparseDisk, writeAt } from '../fixtures/disk-image.ts';
import type { DumpImage } from '../fixtures/dump-image.ts';
import { encodeDiskLabel } from '../fixtures/disklabel.ts';
import { NOW } from './savecore-fixture.ts';

const MiB = 1 << 20;
const root = mkdtempSync(join(tmpdir(), 'kvmdump-e01-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Deterministic offsets (xorshift), so a failure names the same offset every run. */
function offsets(count: number, size: number, seed: number): number[] {
  let x = seed;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.push(Math.floor(((x >>> 0) / 2 ** 32) * size));
  }
  return out;
}

function ewfacquire(raw: string, target: string, extra: string[] = []): void {
  run('ewfacquire', ['-u', '-q', '-t', target, '-c', 'deflate:fast', '-d', 'sha1', '-S', String(MiB), ...extra, raw]);
}

async function readAt(src: { pread(b: Uint8Array, o: number): Promise<number> }, offset: number, length: number): Promise<Uint8Array> {
  const b = new Uint8Array(length);
  const n = await src.pread(b, offset);
  return b.subarray(0, n);
}

if (haveTools('sgdisk', 'ewfacquire', 'ewfexport')) {
  describe('E01 of a GPT disk, made by ewfacquire', () => {
    const raw = join(root, 'disk.raw');
    const e01 = join(root, 'disk.E01');
    const exported = join(root, 'exported');
    const kernel = join(root, 'netbsd');
    let img: DumpImage;
    let dumplo = 0;
    let swap = { start: 0, size: 0 };
    beforeAll(async () => {
      await sparseDisk(raw, 96 * MiB);
      run('sgdisk', ['-n', '1:2048:+32M', '-t', '1:49F48D5A-B10E-11DC-B99B-0019D1879648', '-c', '1:root',
        '-n', '2:0:0', '-t', '2:49F48D32-B10E-11DC-B99B-0019D1879648', '-c', '2:swap', raw]);
      const src = await FileSource.open(raw);
      const p = (await readPartitionMap(src)).partitions[1];
      await src.close();
      swap = { start: p.start, size: p.size };
      ({ img, dumplo } = await placeDump(raw, swap, { flavour: 'amd64', seed: 51 }));
      // Incompressible bytes in the root partition: stored (not deflated) chunks, and several segment files.
      let x = 0x9e3779b9;
      const noise = new Uint8Array(3 * MiB).map(() => ((x = (x * 1103515245 + 12345) >>> 0) >>> 24));
      await writeAt(raw, 2048 * 512, noise);
      writeFileSync(kernel, img.kernel);
      ewfacquire(raw, join(root, 'disk'));
      run('ewfexport', ['-u', '-q', '-f', 'raw', '-t', exported, e01]);
    }, 120_000);

    it('has several segment files, and reads like ewfexport\'s output (and the original) at random offsets', async () => {
      const segs = readdirSync(root).filter((f) => /^disk\.E\d\d$/.test(f)).sort();
      expect(segs.length).toBeGreaterThan(1);
      const ours = await openSource(e01);
      const exp = await FileSource.open(`${exported}.raw`);
      const orig = readFileSync(raw);
      try {
        expect(isImageSet(ours) && ours.image.format).toBe('e01');
        expect(ours.size).toBe(exp.size);
        expect(ours.size).toBe(orig.length);
        const lengths = [1, 512, 4096, 40000, 3 * 32768 + 17];
        const at = [...offsets(200, ours.size, 12345), 0, ours.size - 1, ours.size - 512, swap.start + dumplo * 512, 32767, 32768];
        for (const [i, o] of at.entries()) {
          const len = lengths[i % lengths.length];
          const a = await readAt(ours, o, len);
          const b = await readAt(exp, o, len);
          expect(a.length).toBe(b.length);
          expect(Buffer.from(a).equals(Buffer.from(b)), `offset ${o}`).toBe(true);
          expect(Buffer.from(a).equals(orig.subarray(o, o + len)), `offset ${o}`).toBe(true);
        }
        expect((await readAt(ours, ours.size, 10)).length).toBe(0);
      } finally {
        await ours.close();
        await exp.close();
      }
    });

    it("core's own inflater reads the same bytes as node:zlib, within a bounded chunk cache", async () => {
      const files = readdirSync(root).filter((f) => /^disk\.E\d\d$/.test(f)).sort().map((f) => join(root, f));
      const segs = await Promise.all(files.map((f) => FileSource.open(f)));
      const ewf = await EwfSource.open(segs, { cacheChunks: 4 });
      const orig = readFileSync(raw);
      expect(ewf.info).toMatchObject({ segments: files.length, bytesPerSector: 512, sectorsPerChunk: 64, chunkSize: 32768, mediaSize: orig.length });
      expect(ewf.info.md5).toMatch(/^[0-9a-f]{32}$/);
      expect(ewf.info.sha1).toMatch(/^[0-9a-f]{40}$/);
      for (const o of offsets(100, ewf.size, 777)) {
        expect(Buffer.from(await readAt(ewf, o, 5000)).equals(orig.subarray(o, o + 5000)), `offset ${o}`).toBe(true);
      }
      for (const s of segs) await s.close();
    });

    it('the stored MD5 and SHA-1 verify on request, in the library and through disks --verify-image', async () => {
      const src = await openSource(e01);
      if (!isImageSet(src)) throw new Error('not an image set');
      const v = await verifyImage(src);
      await src.close();
      const orig = readFileSync(raw);
      const { createHash } = await import('node:crypto');
      expect(v).toEqual({
        md5: { stored: createHash('md5').update(orig).digest('hex'), computed: createHash('md5').update(orig).digest('hex') },
        sha1: { stored: createHash('sha1').update(orig).digest('hex'), computed: createHash('sha1').update(orig).digest('hex') },
        ok: true,
      });
      const r = kvmdump(['disks', e01, '--verify-image', '--quick', '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.json.image).toMatchObject({ format: 'e01', verification: { ok: true } });
    });

    it('disks on the E01 finds the dump in partition 2 with the same dumplo as on the raw disk', () => {
      const a = kvmdump(['disks', e01, '--kernel', kernel, '--json']);
      const b = kvmdump(['disks', raw, '--kernel', kernel, '--json']);
      expect(a.code, a.stderr).toBe(0);
      expect(a.json.dumps).toEqual(b.json.dumps);
      expect(a.json.dumps[0]).toMatchObject({ partition: '2', dumplo, state: 'not-saved' });
      expect(a.json.image).toMatchObject({ format: 'e01', files: expect.arrayContaining([e01]) });
      expect(a.stderr).toBe('');
      const t = kvmdump(['disks', e01, '--quick']);
      expect(t.stdout.split('\n')[0]).toMatch(new RegExp(`^${e01}: 96 MiB, GPT \\(E01 image, \\d+ segment files\\)$`));
    });

    it('savecore --partition from the E01 writes the same core as from the raw disk; invalidation refuses, clearly', async () => {
      const d1 = join(root, 'crash-e01');
      const d2 = join(root, 'crash-raw');
      mkdirSync(d1);
      mkdirSync(d2);
      const fromE01 = await runSavecore({ directory: d1, device: e01, partition: '2', kernel, now: NOW });
      const fromRaw = await runSavecore({ directory: d2, device: raw, partition: '2', kernel, now: NOW, keep: true });
      expect(fromRaw.status).toBe('saved');
      expect(readFileSync(fromE01.files!.core).equals(readFileSync(fromRaw.files!.core))).toBe(true);
      expect(fromE01.invalidation).toMatchObject({ status: 'failed' });
      expect(fromE01.invalidation!.error).toContain('an E01 (Expert Witness) image is read-only evidence: nothing is written to it');
      expect(fromE01.exitCode).toBe(1);
      const m = JSON.parse(readFileSync(fromE01.files!.manifest!, 'utf8'));
      expect(m.invalidation.status).toBe('failed');
      expect(m.device.path).toBe(e01);
    });

    it('inval on an E01 refuses before touching anything', () => {
      const before = readFileSync(e01);
      const r = kvmdump(['inval', '--yes', '--kernel', kernel, '--dump', e01, '--partition', '2', '--dump-offset', String(dumplo * 512), '--json']);
      expect(r.code).toBe(1);
      expect(JSON.stringify(r.json)).toContain('is read-only evidence');
      expect(readFileSync(e01).equals(before)).toBe(true);
    });

    it('damage is a clear error naming the file and offset: a missing segment, a bad descriptor, a corrupt chunk', async () => {
      const dir = join(root, 'damaged');
      mkdirSync(dir);
      const files = readdirSync(root).filter((f) => /^disk\.E\d\d$/.test(f)).sort();
      // the last segment missing
      for (const f of files.slice(0, -1)) copyFileSync(join(root, f), join(dir, f));
      await expect(openSource(join(dir, 'disk.E01'))).rejects.toThrow(/ends with "next", not "done": segment \d+ is missing/);
      // a section descriptor's checksum
      copyFileSync(join(root, files.at(-1)!), join(dir, files.at(-1)!));
      const e1 = readFileSync(join(dir, 'disk.E01'));
      e1[13 + 20] ^= 1;
      writeFileSync(join(dir, 'disk.E01'), e1);
      await expect(openSource(join(dir, 'disk.E01'))).rejects.toThrow(/disk\.E01: not a readable E01 image: .*disk\.E01: section descriptor at offset 13: Adler-32 is 0x[0-9a-f]+, computed 0x[0-9a-f]+/);
      // a chunk's data: find the first stored (uncompressed) or compressed chunk of E01 and flip a byte
      e1[13 + 20] ^= 1;
      const src = await FileSource.open(join(root, 'disk.E01'));
      const ewf = await EwfSource.open([src, ...(await Promise.all(files.slice(1).map((f) => FileSource.open(join(root, f)))))]);
      const ref = await (ewf as unknown as { locate(i: number): Promise<{ offset: number; size: number }> }).locate(0);
      e1[ref.offset + 10] ^= 0xff;
      writeFileSync(join(dir, 'disk.E01'), e1);
      const bad = await openSource(join(dir, 'disk.E01'));
      await expect(readAt(bad, 100, 10)).rejects.toThrow(new RegExp(`disk\\.E01: chunk 0 at offset ${ref.offset}: (corrupt compressed chunk|Adler-32)`));
      await expect(readAt(bad, 32768 * 5, 10)).resolves.toHaveLength(10); // other chunks still read
      if (isImageSet(bad)) await expect(verifyImage(bad)).rejects.toThrow(/chunk 0/);
      await bad.close();
      await src.close();
      // a segment given alone
      await expect(openSource(join(root, files[1]))).rejects.toThrow(/open the image by its first segment \(the \.E01 file\)/);
    });
  });
}

describe('split raw images', () => {
  it('image.001, .002, … read as one disk; the dump is found across the cut', async () => {
    const dir = join(root, 'split');
    mkdirSync(dir);
    const whole = join(dir, 'whole.raw');
    await sparseDisk(whole, 48 * MiB);
    const b = { offset: 64, size: 48 * 2048 - 64, fstype: 1 };
    await writeAt(whole, 512, encodeDiskLabel([{ offset: 0, size: 0, fstype: 0 }, b]));
    const { dumplo } = await placeDump(whole, { start: b.offset * 512, size: b.size * 512 }, { flavour: 'i386', seed: 52 });
    const bytes = readFileSync(whole);
    const cut = 7 * MiB + 123; // parts need not be sector multiples
    for (let i = 0; i * cut < bytes.length; i++) writeFileSync(join(dir, `disk.${String(i + 1).padStart(3, '0')}`), bytes.subarray(i * cut, (i + 1) * cut));
    const src = await openSource(join(dir, 'disk.001'));
    expect(isImageSet(src) && src.image.files.length).toBe(Math.ceil(bytes.length / cut));
    expect(src.size).toBe(bytes.length);
    for (const o of offsets(200, src.size, 99)) expect(Buffer.from(await readAt(src, o, 9000)).equals(bytes.subarray(o, o + 9000)), `offset ${o}`).toBe(true);
    await src.close();
    const r = kvmdump(['disks', join(dir, 'disk.001'), '--quick', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.dumps.map((d: { partition: string; dumplo: number }) => [d.partition, d.dumplo])).toEqual([['b', dumplo]]);
    expect(r.json.image).toMatchObject({ format: 'split-raw' });
    await expect(openSource(join(dir, 'disk.001'), { writable: true })).rejects.toThrow(/a split raw image is read-only evidence/);
  });

  it.skipIf(!toolPath('ewfacquire'))('every format ewfacquire writes (EnCase 2–7, FTK, linen, SMART) reads back as the raw image', async () => {
    const raw = join(root, 'formats.raw');
    let x = 12345;
    const bytes = new Uint8Array(5 * MiB + 7 * 512).map((_, i) => (i % 4096 < 2048 ? ((x = (x * 1103515245 + 12345) >>> 0) >>> 24) : i & 0xff));
    writeFileSync(raw, bytes);
    for (const f of ['encase2', 'encase4', 'encase5', 'encase6', 'encase7', 'ftk', 'linen6', 'smart']) {
      run('ewfacquire', ['-u', '-q', '-t', join(root, `fmt-${f}`), '-f', f, '-c', 'deflate:fast', '-S', String(MiB), raw]);
      const first = join(root, `fmt-${f}.${f === 'smart' ? 's01' : 'E01'}`);
      const src = await openSource(first);
      try {
        expect(isImageSet(src) && src.image.files.length, f).toBeGreaterThan(1);
        expect(src.size, f).toBe(bytes.length);
        const back = await readAt(src, 0, bytes.length);
        expect(Buffer.from(back).equals(Buffer.from(bytes)), f).toBe(true);
      } finally {
        await src.close();
      }
    }
  });

  it('segment names follow EWF: .E99 then .EAA … .EZZ, .FAA', () => {
    expect([1, 2, 99, 100, 101, 125, 126, 775, 776].map((n) => segmentName('x/img.E01', n).slice(-3))).toEqual(['E01', 'E02', 'E99', 'EAA', 'EAB', 'EAZ', 'EBA', 'EZZ', 'FAA']);
    expect(segmentName('img.e01', 100)).toBe('img.eaa');
    expect([2, 100].map((n) => segmentName('img.s01', n))).toEqual(['img.s02', 'img.saa']);
  });

  it('adler32 matches zlib', async () => {
    const zlib = await import('node:zlib');
    const data = new Uint8Array(100_000).map((_, i) => (i * 7919) & 255);
    const z = zlib.deflateSync(data);
    expect(adler32(data)).toBe(z.readUInt32BE(z.length - 4));
  });
});

if (haveTools('sfdisk', 'ewfacquire')) {
  describe('E01 of an MBR + disklabel disk and of a bare-disklabel disk', () => {
    const kinds = {
      'mbr-disklabel': async (raw: string) => {
        await sparseDisk(raw, 64 * MiB);
        run('sfdisk', ['--no-reread', '--no-tell-kernel', raw], 'label: dos\nstart=2048, size=129024, type=a9\n');
        const swap = { offset: 2048 + 16 * 2048, size: 129024 - 16 * 2048, fstype: 1 };
        await writeAt(raw, (2048 + 1) * 512, encodeDiskLabel([{ offset: 2048, size: 16 * 2048, fstype: 7 }, swap, { offset: 2048, size: 129024, fstype: 0 }]));
        return { start: swap.offset * 512, size: swap.size * 512 };
      },
      'bare-disklabel': async (raw: string) => {
        await sparseDisk(raw, 64 * MiB);
        const swap = { offset: 64, size: 64 * 2048 - 64, fstype: 1 };
        await writeAt(raw, 512, encodeDiskLabel([{ offset: 0, size: 0, fstype: 0 }, swap, { offset: 0, size: 64 * 2048, fstype: 0 }]));
        return { start: swap.offset * 512, size: swap.size * 512 };
      },
    };
    for (const [kind, make] of Object.entries(kinds)) {
      it(`${kind}: disks finds the dump in partition b as on the raw disk, and savecore writes the same core`, async () => {
        const raw = join(root, `${kind}.raw`);
        const part = await make(raw);
        const { img, dumplo } = await placeDump(raw, part, { flavour: 'i386', seed: 53 });
        const kernel = join(root, `netbsd-${kind}`);
        writeFileSync(kernel, img.kernel);
        run('ewfacquire', ['-u', '-q', '-t', join(root, kind), '-c', 'deflate:fast', '-S', String(4 * MiB), raw]);
        const e01 = join(root, `${kind}.E01`);
        const a = kvmdump(['disks', e01, '--kernel', kernel, '--json']);
        const b = kvmdump(['disks', raw, '--kernel', kernel, '--json']);
        expect(a.code, a.stderr).toBe(0);
        expect(a.json.dumps).toEqual(b.json.dumps);
        expect(a.json.dumps.map((d: { partition: string; dumplo: number; state: string }) => [d.partition, d.dumplo, d.state])).toEqual([['b', dumplo, 'not-saved']]);
        const dirs = [join(root, `${kind}-e01-crash`), join(root, `${kind}-raw-crash`)];
        dirs.forEach((d) => mkdirSync(d));
        const [x, y] = await Promise.all([
          runSavecore({ directory: dirs[0], device: e01, partition: 'b', kernel, now: NOW, keep: true }),
          runSavecore({ directory: dirs[1], device: raw, partition: 'b', kernel, now: NOW, keep: true }),
        ]);
        expect([x.status, y.status]).toEqual(['saved', 'saved']);
        expect(readFileSync(x.files!.core).equals(readFileSync(y.files!.core))).toBe(true);
      });
    }
  });
}
