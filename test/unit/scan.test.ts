// Dump discovery (scan): headers at any 512-byte boundary, across read-chunk boundaries, several
// on one device, and noise that merely contains the magic bytes is not reported.
import { describe, expect, it } from 'vitest';
import { scanForDumps } from '../../core/scan.ts';
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
