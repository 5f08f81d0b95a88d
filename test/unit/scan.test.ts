// Dump discovery (scan): headers at any 512-byte boundary, across read-chunk boundaries, several
// on one device, and noise that merely contains the magic bytes is not reported.
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scanForDumps } from '../../core/scan.ts';
import { openSource } from '../../main/sources/node-source.ts';
import { MemorySource, type DumpSource } from '../../core/source.ts';
import { buildDumpImage } from '../fixtures/dump-image.ts';

describe('scanForDumps', () => {
  it('finds a header at a non-page-aligned dumplo, also when it lies on a read-chunk boundary', async () => {
    const img = buildDumpImage({ flavour: 'i386', seed: 2, dumplo: 123457 });
    const src = new MemorySource(img.toBytes());
    for (const chunkSize of [img.facts.dumpOff, 1 << 20, 64 << 20]) {
      const found = await scanForDumps(src, { chunkSize });
      expect(found.map((c) => [c.offset, c.machine, c.headerSize])).toEqual([[img.facts.dumpOff, 'i386', 512]]);
    }
  });

  it('finds a header in the last sector of a chunk, whatever the chunk size, read-ahead and read lengths', async () => {
    const img = buildDumpImage({ flavour: 'amd64', seed: 5, dumplo: 2049 });
    const bytes = img.toBytes();
    const at = img.facts.dumpOff;
    // A source whose reads return at most 3000 bytes (a pipe-like device): short reads before EOF.
    const mem = new MemorySource(bytes);
    const dribbling: DumpSource = { name: 'dribble', kind: 'file', size: bytes.length, pread: (buf, off) => mem.pread(buf.subarray(0, 3000), off) };
    const cases: [DumpSource, number, number][] = [
      [mem, at + 512, 8], // the header's sector ends the first chunk; its CPU data is in the next
      [mem, at + 512, 1],
      [mem, 1000, 3], // not a whole number of sectors: chunks are rounded up to sectors
      [mem, 512, 2],
      [dribbling, at + 512, 4],
      [dribbling, 1 << 20, 8],
    ];
    for (const [src, chunkSize, readAhead] of cases) {
      const found = await scanForDumps(src, { chunkSize, readAhead });
      expect(found.map((c) => [c.offset, c.machine, c.complete])).toEqual([[at, 'amd64', true]]);
    }
  });

  it('a source shorter than its stated size ends the scan at its end, with what was found', async () => {
    const img = buildDumpImage({ flavour: 'i386', seed: 6, dumplo: 64 });
    const bytes = img.toBytes();
    const mem = new MemorySource(bytes.subarray(0, 3 << 20));
    const claims: DumpSource = { name: 'shrunk', kind: 'file', size: 8 << 20, pread: (buf, off) => mem.pread(buf, off) };
    let progress = 0;
    const found = await scanForDumps(claims, { chunkSize: 1 << 20, onProgress: (done) => (progress = done) });
    expect(found.map((c) => c.offset)).toEqual([img.facts.dumpOff]);
    expect(progress).toBe(3 << 20);
  });

  it('reports two dumps on one device, each with its memory size and completeness', async () => {
    const a = buildDumpImage({ flavour: 'amd64', seed: 1, dumplo: 16 });
    const b = buildDumpImage({ flavour: 'aarch64', seed: 1, dumplo: 16 });
    const second = 64 << 20;
    const disk = new Uint8Array(second + b.size - 4096);
    disk.set(a.toBytes());
    disk.set(b.toBytes().subarray(0, b.size - 4096), second);
    const found = await scanForDumps(new MemorySource(disk));
    expect(found).toEqual([
      { offset: a.facts.dumpOff, machine: 'amd64', headerSize: 512, segments: 2, memoryBytes: a.facts.dumpsizePages * 4096, complete: true, notes: [] },
      { offset: second + b.facts.dumpOff, machine: 'aarch64', headerSize: 512, segments: 2, memoryBytes: b.facts.dumpsizePages * 4096, complete: false, notes: [] },
    ]);
  });

  it('lists headers mkheader would accept despite an odd flag or no segments, with a note saying so', async () => {
    const flagged = buildDumpImage({ flavour: 'amd64', seed: 4, corrupt: 'wrong-flag' });
    const empty = buildDumpImage({ flavour: 'i386', seed: 4, corrupt: 'zero-segments' });
    expect((await scanForDumps(new MemorySource(flagged.toBytes())))[0].notes).toEqual(['segment flag is 2, not CORE_CPU (1); libkvm does not check it']);
    expect((await scanForDumps(new MemorySource(empty.toBytes())))[0]).toMatchObject({ segments: 0, notes: ['the header lists no memory segments'] });
  });

  it('ignores the magic when the rest of the header is implausible', async () => {
    const noise = new Uint8Array(1 << 20);
    const dv = new DataView(noise.buffer);
    dv.setUint32(512, (1 << 26) | (0x9d << 16) | 0x8fca, false); // right magic, c_size 0
    dv.setUint32(1024, (1 << 26) | (0x9d << 16) | 0x8fca, false);
    dv.setUint32(1028, 1000, true); // 8 + 1000 is not a multiple of 512
    dv.setUint32(2048, (1 << 26) | (0x1ff << 16) | 0x8fca, false); // unknown MID
    dv.setUint32(4096, (2 << 26) | (0x9d << 16) | 0x8fca, false); // wrong flag and no segments
    dv.setUint32(4100, 504, true);
    dv.setUint32(3000, (1 << 26) | (0x9d << 16) | 0x8fca, false); // not on a sector boundary
    expect(await scanForDumps(new MemorySource(noise))).toEqual([]);
  });

  it('reports progress and can be cancelled', async () => {
    const img = buildDumpImage({ flavour: 'amd64', seed: 3 });
    const seen: number[] = [];
    await scanForDumps(new MemorySource(img.toBytes()), { chunkSize: 1 << 20, onProgress: (done) => seen.push(done) });
    expect(seen.at(-1)).toBe(img.size);
    const ac = new AbortController();
    ac.abort();
    await expect(scanForDumps(new MemorySource(img.toBytes()), { signal: ac.signal })).rejects.toThrow();
  });
});

describe('scanForDumps through a source that reads through one buffer (readThrough)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kvmdump-scan-through-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const onDisk = async (name: string, bytes: Uint8Array) => {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return openSource(path);
  };
  /** A memory source whose readThrough gives its caller a turn every three pieces. */
  class SlicedSource extends MemorySource {
    async readThrough(buf: Uint8Array, offset: number, end: number, visit: (piece: Uint8Array, at: number) => void): Promise<number> {
      let pos = offset;
      for (let k = 0; k < 3 && pos < end; k++) {
        const n = await this.pread(buf.subarray(0, Math.min(buf.length, end - pos)), pos);
        if (n <= 0) break;
        visit(buf.subarray(0, n), pos);
        pos += n;
      }
      return pos;
    }
  }

  it('finds what the chunked scan finds: a header in the last sector of a 128 KiB piece, two dumps on one device', async () => {
    const a = buildDumpImage({ flavour: 'amd64', seed: 7, dumplo: 255 }); // the header ends the first 128 KiB
    const b = buildDumpImage({ flavour: 'aarch64', seed: 1, dumplo: 16 });
    const disk = new Uint8Array((8 << 20) + b.size - 4096 + 1000); // not a whole number of pieces, nor of sectors
    disk.set(a.toBytes());
    disk.set(b.toBytes().subarray(0, b.size - 4096), 8 << 20);
    const expected = await scanForDumps(new MemorySource(disk), { chunkSize: 1 << 20 });
    expect(expected.map((c) => c.offset)).toEqual([a.facts.dumpOff, (8 << 20) + b.facts.dumpOff]);
    expect(a.facts.dumpOff + 512).toBe(128 << 10);
    const file = await onDisk('two.img', disk);
    try {
      expect(file.readThrough).toBeTypeOf('function');
      expect(await scanForDumps(file)).toEqual(expected);
    } finally {
      await file.close();
    }
    expect(await scanForDumps(new SlicedSource(disk))).toEqual(expected);
  });

  it('stops at maxBytes and says so; progress ends where the scan did', async () => {
    const img = buildDumpImage({ flavour: 'i386', seed: 8, dumplo: 64 });
    const file = await onDisk('limit.img', img.toBytes());
    try {
      let limitAt = -1;
      const seen: number[] = [];
      const found = await scanForDumps(file, { maxBytes: 1 << 20, onLimit: (at) => (limitAt = at), onProgress: (d) => seen.push(d) });
      expect(found.map((c) => c.offset)).toEqual([img.facts.dumpOff]);
      expect(limitAt).toBe(1 << 20);
      expect(seen.at(-1)).toBe(1 << 20);
    } finally {
      await file.close();
    }
  });

  it('gives the event loop a turn on a long scan, and reports progress to the end', async () => {
    const path = join(dir, 'sparse.img');
    writeFileSync(path, new Uint8Array(0));
    truncateSync(path, 768 << 20);
    const file = await openSource(path);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      const seen: number[] = [];
      expect(await scanForDumps(file, { onProgress: (d) => seen.push(d) })).toEqual([]);
      expect(seen.length).toBeGreaterThan(1);
      expect(seen.at(-1)).toBe(768 << 20);
      expect(ticks).toBeGreaterThan(0);
    } finally {
      clearInterval(timer);
      await file.close();
    }
  });
});
