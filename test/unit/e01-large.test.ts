// E01 segment files past 2 GiB. A table entry has 31 bits of offset (bit 31 is "compressed"), so
// EnCase 6.7+ and libewf's encase6 format close a "sectors" section before it spans 2^31 bytes and
// give the next one's table its own 64-bit base offset; EnCase 6.7.1 instead wrote one table whose
// later entries use all 32 bits (libewf reads those as stored chunks). Both layouts, written
// sparse (a few MiB on disk for 2.5 GiB segments), read like ewfexport reads them. With
// KVMDUMP_LARGE_IMAGES=1, ewfacquire itself writes a 2.25 GiB segment (about 25 s, 2.3 GiB of disk).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EwfSource, offsetOverflow } from '../../core/e01/ewf.ts';
import { readPartitionMap } from '../../core/partitions/index.ts';
import { openSource } from '../../main/sources/node-source.ts';
import { isImageSet } from '../../main/sources/image-set.ts';
import { kvmdump } from '../fixtures/cli.ts';
import { placeDump, sparseDisk, writeAt } from '../fixtures/disk-image.ts';
import { haveTools, run, toolPath } from '../fixtures/disk-tools.ts';
import { writeSparseEwf } from '../fixtures/ewf-writer.ts';
import { FileSource } from '../fixtures/file-source.ts';
import type { DumpImage } from '../fixtures/dump-image.ts';

const MiB = 1 << 20;
const GiB = 1024 * MiB;
const CS = 16 * MiB; // 32768 sectors per chunk
const root = mkdtempSync(join(tmpdir(), 'kvmdump-e01-large-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Non-zero chunks: at the start, around 2 GiB of the segment, and at the end. */
const ISLANDS = new Set([0, 1, 64, 126, 127, 128, 129, 130, 131, 140, 150, 159]);
const ISLAND = 192 * 1024;

/** Where chunk i's island sits inside it (sector-aligned, varying with i). */
const islandAt = (i: number) => ((i * 40_961) % ((CS - ISLAND) / 512)) * 512;

function island(i: number): Uint8Array {
  let x = (0x9e3779b9 ^ (i * 2654435761)) >>> 0 || 1;
  const b = new Uint8Array(ISLAND);
  for (let k = 0; k < ISLAND; k++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[k] = x >>> 24;
  }
  return b;
}

function chunkContent(i: number): Uint8Array | null {
  if (!ISLANDS.has(i)) return null;
  const c = new Uint8Array(CS);
  c.set(island(i), islandAt(i));
  new DataView(c.buffer).setUint32(0, 0xc0ffee00 + i, true);
  return c;
}

/** The media bytes [offset, offset+length) as the writer laid them down. */
function media(offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let c = Math.floor(offset / CS); c * CS < offset + length; c++) {
    const data = chunkContent(c);
    if (!data) continue;
    const from = Math.max(offset, c * CS);
    const to = Math.min(offset + length, (c + 1) * CS);
    out.set(data.subarray(from - c * CS, to - c * CS), from - offset);
  }
  return out;
}

async function readAt(src: { pread(b: Uint8Array, o: number): Promise<number> }, offset: number, length: number): Promise<Uint8Array> {
  const b = new Uint8Array(length);
  const n = await src.pread(b, offset);
  return b.subarray(0, n);
}

/** ewfexport's bytes for [offset, offset+length): libewf's reading of the same file. */
function ewfexportRange(e01: string, offset: number, length: number): Uint8Array {
  const out = join(root, `export-${offset}-${length}`);
  run('ewfexport', ['-u', '-q', '-f', 'raw', '-o', String(offset), '-B', String(length), '-t', out, e01]);
  const b = readFileSync(`${out}.raw`);
  rmSync(`${out}.raw`);
  return b;
}

/** Offsets that matter: islands, chunk edges, and the chunks stored past 2 GiB in the file. */
function probes(chunks: number): [number, number][] {
  const at: [number, number][] = [[0, 4096], [CS - 100, 300], [(chunks - 1) * CS + CS - 512, 512]];
  for (const i of ISLANDS) at.push([Math.max(0, i * CS + islandAt(i) - 7), ISLAND + 20], [Math.max(0, i * CS - 3), 11]);
  for (const i of [100, 135, 145]) at.push([i * CS + 12345, 5000]);
  return at;
}

it('an offset overflow is where the next entry\'s 31 bits fall behind and its 32 bits pass 2^31 (libewf\'s rule)', () => {
  const C = 0x80000000;
  expect(offsetOverflow(Uint32Array.of(0x4c, (C | 0x1000) >>> 0, (C | 0x2000) >>> 0))).toBe(3); // compressed, increasing: none
  expect(offsetOverflow(Uint32Array.of(0x4c, 0x7fff0000, 0x80007000, 0x8000f004))).toBe(2);
  expect(offsetOverflow(Uint32Array.of((C | 0x4c) >>> 0, (C | 0x7fff0000) >>> 0, 0x80007000))).toBe(2);
  expect(offsetOverflow(Uint32Array.of(0x5000, 0x4000))).toBe(2); // backwards without bit 31: damage, not overflow
  expect(offsetOverflow(new Uint32Array(0))).toBe(0);
});

for (const layout of ['base', 'overflow'] as const) {
  describe(`a 2.5 GiB E01 segment file, ${layout === 'base' ? 'a second table with a base offset past 2 GiB (EnCase 6.7+, libewf)' : 'one table with 32-bit offsets past 2 GiB (EnCase 6.7.1)'}`, () => {
    const e01 = join(root, `${layout}.E01`);
    const chunks = 160;
    let tables: { base: number; count: number }[] = [];
    beforeAll(async () => {
      ({ tables } = await writeSparseEwf(e01, {
        chunks, layout, content: chunkContent,
        // deflate a few chunks on both sides of 2 GiB (zero and non-zero ones); few before it, so
        // that 2^31 falls near chunk 131
        compress: (i) => i === 1 || i === 3 || i === 10 || (i > 135 && i % 5 === 0) || i === 159,
      }));
    });

    it('the segment file passes 2 GiB and chunks are stored past 2^31 in it', async () => {
      const seg = await FileSource.open(e01);
      const ewf = await EwfSource.open([seg]);
      try {
        expect(seg.size).toBeGreaterThan(2 * GiB);
        expect(ewf.size).toBe(chunks * CS);
        if (layout === 'base') {
          expect(tables.length).toBe(2);
          expect(tables[1].base).toBeGreaterThan(2 ** 31);
        } else {
          expect(tables).toEqual([{ base: 0, count: chunks }]);
        }
        const locs = await Promise.all(Array.from({ length: chunks }, (_, i) => ewf.chunkLocation(i)));
        const past = locs.filter((l) => l.offset > 2 ** 31);
        expect(past.length).toBeGreaterThan(20);
        if (layout === 'base') {
          expect(past.some((l) => l.compressed)).toBe(true);
          expect(locs.every((l) => !l.overflow)).toBe(true);
        } else {
          expect(past.every((l) => l.overflow && !l.compressed)).toBe(true);
          expect(locs.filter((l) => l.offset < 2 ** 31).some((l) => l.compressed)).toBe(true);
        }
      } finally {
        await seg.close();
      }
    });

    it('reads the media the writer laid down, and what ewfexport (libewf) reads, at chunks on both sides of 2 GiB', async () => {
      const src = await openSource(e01);
      try {
        expect(isImageSet(src) && src.image.format).toBe('e01');
        for (const [o, len] of probes(chunks)) {
          const ours = await readAt(src, o, len);
          expect(Buffer.from(ours).equals(Buffer.from(media(o, len))), `offset ${o}`).toBe(true);
        }
        for (const [o, len] of probes(chunks).filter((_, k) => k % 3 === 0)) {
          if (!toolPath('ewfexport')) break;
          expect(Buffer.from(await readAt(src, o, len)).equals(ewfexportRange(e01, o, len)), `ewfexport at ${o}`).toBe(true);
        }
      } finally {
        await src.close();
      }
    });

    if (layout === 'overflow') {
      it('a damaged chunk past the overflow is an error naming the file, the offset and the overflow', async () => {
        const seg = await FileSource.open(e01);
        const ewf = await EwfSource.open([seg]);
        const loc = await ewf.chunkLocation(140);
        await seg.close();
        expect(loc.overflow).toBe(true);
        const byte = new Uint8Array(1);
        const fh = await FileSource.open(e01);
        await fh.pread(byte, loc.offset + 100);
        await fh.close();
        await writeAt(e01, loc.offset + 100, Uint8Array.of(byte[0] ^ 0xff));
        try {
          const src = await openSource(e01);
          try {
            await expect(readAt(src, 140 * CS + 100, 10)).rejects.toThrow(
              new RegExp(`overflow\\.E01: chunk 140 at offset ${loc.offset}: Adler-32 .*past its table's 2 GiB offset overflow`));
            await expect(readAt(src, 139 * CS, 10)).resolves.toHaveLength(10);
          } finally {
            await src.close();
          }
        } finally {
          await writeAt(e01, loc.offset + 100, byte);
        }
      });
    }
  });
}

const LARGE = process.env.KVMDUMP_LARGE_IMAGES === '1';
if (!LARGE) process.stderr.write('skipping the ewfacquire 2.25 GiB segment test: set KVMDUMP_LARGE_IMAGES=1 to run it (about 25 s, 2.3 GiB of disk under the temporary directory)\n');

if (LARGE && haveTools('sgdisk', 'ewfacquire', 'ewfexport', 'ewfinfo')) {
  describe('a 2.25 GiB segment file written by ewfacquire -f encase6 (KVMDUMP_LARGE_IMAGES=1)', () => {
    const raw = join(root, 'big.raw');
    const e01 = join(root, 'big.E01');
    const kernel = join(root, 'netbsd-big');
    let swap = { start: 0, size: 0 };
    let dumplo = 0;
    /** Random islands clear of the partition map and of the dump at the end of swap. */
    const BIG_ISLANDS = [...ISLANDS].filter((i) => i >= 2 && i < 136);
    beforeAll(async () => {
      await sparseDisk(raw, 2304 * MiB);
      run('sgdisk', ['-n', '1:2048:+1G', '-t', '1:49F48D5A-B10E-11DC-B99B-0019D1879648', '-c', '1:root',
        '-n', '2:0:0', '-t', '2:49F48D32-B10E-11DC-B99B-0019D1879648', '-c', '2:swap', raw]);
      const src = await FileSource.open(raw);
      const p = (await readPartitionMap(src)).partitions[1];
      await src.close();
      swap = { start: p.start, size: p.size };
      let img: DumpImage;
      ({ img, dumplo } = await placeDump(raw, swap, { flavour: 'amd64', seed: 61 }));
      writeFileSync(kernel, img.kernel);
      for (const i of BIG_ISLANDS) await writeAt(raw, i * CS + islandAt(i), island(i));
      // no compression: every chunk stored, so the segment file really passes 2 GiB
      run('ewfacquire', ['-u', '-q', '-t', join(root, 'big'), '-f', 'encase6', '-c', 'none', '-S', String(3 * GiB), raw]);
    }, 300_000);

    it('ewfinfo sees one EnCase 6 segment past 2 GiB; its second table has a base offset past 2^31', async () => {
      const info = run('ewfinfo', [e01]);
      expect(info).toMatch(/File format:\s+EnCase 6/);
      expect(info).toMatch(/Media size:.*\(2415919104 bytes\)/);
      const seg = await FileSource.open(e01);
      const ewf = await EwfSource.open([seg]);
      try {
        expect(seg.size).toBeGreaterThan(2 * GiB + 256 * MiB);
        const chunk = Math.floor((swap.start + dumplo * 512) / ewf.info.chunkSize);
        const loc = await ewf.chunkLocation(chunk);
        expect(loc.offset).toBeGreaterThan(2 ** 31);
        expect(loc.overflow).toBe(false);
      } finally {
        await seg.close();
      }
    });

    it('reads what ewfexport reads, on both sides of 2 GiB; disks finds the dump as on the raw disk', async () => {
      const src = await openSource(e01);
      const orig = await FileSource.open(raw);
      try {
        const at: [number, number][] = [[0, 65536], [swap.start + dumplo * 512, 8192], [2 * GiB - 5000, 10000], [src.size - 512, 512]];
        for (const i of BIG_ISLANDS) at.push([i * CS + islandAt(i) - 100, ISLAND + 200]);
        for (const [o, len] of at) {
          const ours = await readAt(src, o, len);
          expect(Buffer.from(ours).equals(Buffer.from(await readAt(orig, o, len))), `offset ${o}`).toBe(true);
          expect(Buffer.from(ours).equals(ewfexportRange(e01, o, len)), `ewfexport at ${o}`).toBe(true);
        }
      } finally {
        await src.close();
        await orig.close();
      }
      const a = kvmdump(['disks', e01, '--kernel', kernel, '--json']);
      const b = kvmdump(['disks', raw, '--kernel', kernel, '--json']);
      expect(a.code, a.stderr).toBe(0);
      expect(a.json.dumps).toEqual(b.json.dumps);
      expect(a.json.dumps[0]).toMatchObject({ partition: '2', dumplo, state: 'not-saved' });
    });
  });
}
