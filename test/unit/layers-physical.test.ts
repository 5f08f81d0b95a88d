// The strict physical and file layers (issue 8): a PA in a hole or past every segment is a fault,
// never the bytes that follow the memory data; an I/O error on a raw device is a fault with its
// errno, never the stale bounce buffer; the segment match agrees with libkvm's pa2off.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Kvm } from '../../core/kvm.ts';
import { IoError } from '../../core/errno.ts';
import { MemorySource, type DumpSource, type SourceKind } from '../../core/source.ts';
import { toHex } from '../../core/format/bytes.ts';
import { memoryLayers } from '../../core/layers/index.ts';
import { libkvmPa2off, SegmentIndex } from '../../core/layers/segments.ts';
import { readSourceStrict } from '../../core/layers/file.ts';
import { buildDumpImage } from '../fixtures/dump-image.ts';

/** A source that fails with EIO on every read touching [badFrom, badTo). */
class FailingSource implements DumpSource {
  readonly name = 'rsd0b';
  constructor(private readonly inner: MemorySource, readonly kind: SourceKind, private readonly badFrom: number, private readonly badTo: number) {}
  get size() {
    return this.inner.size;
  }
  async pread(buf: Uint8Array, offset: number): Promise<number> {
    if (offset < this.badTo && offset + buf.length > this.badFrom) throw new IoError('EIO', 'bad sector');
    return this.inner.pread(buf, offset);
  }
}

async function opened(bytes: Uint8Array, dumpOff: number, kernel: Uint8Array, kind: SourceKind = 'file', wrap?: (m: MemorySource) => DumpSource) {
  const mem = new MemorySource(bytes, 'dump', kind, false);
  const dump = wrap ? wrap(mem) : mem;
  const kd = await Kvm.open({ dump, kernel: new MemorySource(kernel) });
  expect(await kd.mkheader(dumpOff)).toBeGreaterThan(0);
  return { kd, layers: memoryLayers(kd) };
}

describe('physical layer', () => {
  it('reads a symbol\'s bytes at its PA, and maps runs and the ISA hole', async () => {
    const img = buildDumpImage({ flavour: 'amd64', seed: 4 });
    const { layers } = await opened(img.toBytes(), img.facts.dumpOff, img.kernel);
    const mag = img.facts.symbols.dumpmag;
    const got = await layers.physical.read(mag.pa, mag.bytes.length);
    expect(got.faults).toEqual([]);
    expect(toHex(got.data)).toBe(toHex(mag.bytes));
    expect(layers.physical.fileOffset(mag.pa)).toBe(mag.fileOff);

    const mem = img.facts.memOff;
    expect(layers.physical.mapping(0x9e000n, 0x3000)).toEqual([
      { kind: 'run', pa: 0x9e000n, fileOffset: mem + 0x9e000, length: 0x1000 },
      { kind: 'hole', pa: 0x9f000n, length: 0x2000 },
    ]);
    expect(layers.physical.mapping(0xff000n, 0x2000)).toEqual([
      { kind: 'hole', pa: 0xff000n, length: 0x1000 },
      { kind: 'run', pa: 0x100000n, fileOffset: mem + 0x9f000, length: 0x1000 },
    ]);
    expect(layers.physical.fileOffset(0xa0000n)).toBeNull();
  });

  it('a hole and a PA past every segment are faults with zero bytes, where libkvm reads the end of the memory data', async () => {
    const img = buildDumpImage({ flavour: 'amd64', seed: 4 });
    const bytes = img.toBytes();
    const withTrailer = new Uint8Array(bytes.length + 0x10000).fill(0x41);
    withTrailer.set(bytes);
    const { kd, layers } = await opened(withTrailer, img.facts.dumpOff, img.kernel);
    // libkvm (kept exact): pa2off of a PA in no segment is the end of the memory data.
    expect(kd.pa2off(0xa0000n)).toBe(bytes.length);

    const hole = await layers.physical.read(0x9ff00n, 0x200);
    expect(hole.faults).toEqual([
      expect.objectContaining({ offset: 0, length: 0x200, kind: 'outside-segments', address: 0x9ff00n, reason: 'PA 0x9ff00 is in no memory segment of the dump' }),
    ]);
    expect(hole.data.every((b) => b === 0)).toBe(true);

    const top = img.facts.segments.at(-1)!;
    const past = await layers.physical.read(top.start + top.size - 8n, 16);
    expect(past.faults).toEqual([expect.objectContaining({ offset: 8, length: 8, kind: 'outside-segments', address: top.start + top.size })]);
    expect(past.data.subarray(8).every((b) => b === 0)).toBe(true);
  });

  it('a segment the image does not reach ends in an EOF fault', async () => {
    const img = buildDumpImage({ flavour: 'i386', seed: 2, corrupt: 'truncated-image' });
    const { layers } = await opened(img.toBytes(), img.facts.dumpOff, img.kernel);
    // Bank 0 is [0, 0x9f000) at memOff, bank 1 starts at PA 0x100000: the cut lies in bank 1.
    const cut = BigInt(img.size - img.facts.memOff);
    const inBank1 = 0x100000n + (cut - 0x9f000n) - 0x10n;
    const got = await layers.physical.read(inBank1, 0x20);
    expect(got.faults).toEqual([expect.objectContaining({ offset: 0x10, length: 0x10, kind: 'eof' })]);
    expect(got.faults[0].reason).toMatch(/is in a segment, but the dump ends at file offset/);
  });

  it('an EIO on a raw character device is a fault with its errno, never the stale bounce buffer libkvm returns', async () => {
    const img = buildDumpImage({ flavour: 'amd64', seed: 4 });
    const host = img.facts.symbols.hostname;
    const sector = host.fileOff - (host.fileOff % 512);
    const { kd, layers } = await opened(img.toBytes(), img.facts.dumpOff, img.kernel, 'chardev', (m) => new FailingSource(m, 'chardev', sector, sector + 512));
    // Prime libkvm's bounce buffer with other bytes, then read the failing sector: "success".
    await kd.read(img.facts.symbols.dumpmag.va, new Uint8Array(4));
    const stale = new Uint8Array(8);
    expect(await kd.read(host.va, stale)).toBe(8);

    const got = await layers.physical.read(host.pa, 8);
    expect(got.faults).toEqual([expect.objectContaining({ offset: 0, length: 8, kind: 'io', errno: 'EIO' })]);
    expect(got.faults[0].reason).toMatch(/Input\/output error/);
    expect(got.data.every((b) => b === 0)).toBe(true);
    const viaVa = await layers.virtual.read(host.va, 8);
    expect(viaVa.faults).toEqual([expect.objectContaining({ kind: 'io', errno: 'EIO', address: host.va })]);
  });

  it('a failed large read is narrowed to the pages that fail', async () => {
    const bytes = new Uint8Array(0x10000).fill(7);
    const src = new FailingSource(new MemorySource(bytes), 'chardev', 0x5000, 0x5200);
    const got = await readSourceStrict(src, 0x1000, 0x8000);
    expect(got.faults).toEqual([expect.objectContaining({ offset: 0x4000, length: 0x1000, kind: 'io', errno: 'EIO', address: 0x5000n })]);
    expect(got.data.subarray(0, 0x4000).every((b) => b === 7)).toBe(true);
    expect(got.data.subarray(0x5000).every((b) => b === 7)).toBe(true);
  });

  it('no header: every read faults with no-header', async () => {
    const img = buildDumpImage({ flavour: 'amd64', seed: 1 });
    const kd = await Kvm.open({ dump: new MemorySource(img.toBytes()), kernel: new MemorySource(img.kernel) });
    const layers = memoryLayers(kd);
    expect(layers.machine).toBeNull();
    expect((await layers.physical.read(0n, 4)).faults[0].kind).toBe('no-header');
    expect((await layers.virtual.read(0xffffffff80600000n, 4)).faults[0].kind).toBe('no-header');
    expect((await layers.file.read(0, 4)).faults).toEqual([]);
  });
});

describe('file space', () => {
  it('reads past the end of the source as an EOF fault', async () => {
    const got = await readSourceStrict(new MemorySource(new Uint8Array([1, 2, 3])), 1, 4);
    expect([...got.data]).toEqual([2, 3, 0, 0]);
    expect(got.faults).toEqual([expect.objectContaining({ offset: 2, length: 2, kind: 'eof', address: 3n })]);
  });
});

describe('segment index', () => {
  const seg = fc.record({ start: fc.bigInt({ min: 0n, max: 0x40n }).map((x) => x * 0x100n), size: fc.bigInt({ min: 0n, max: 0x10n }).map((x) => x * 0x80n) });
  it('finds what libkvm\'s first-match pa2off finds, overlapping or not, on both end rules', () => {
    fc.assert(fc.property(fc.array(seg, { maxLength: 6 }), fc.bigInt({ min: 0n, max: 0x5000n }), fc.constantFrom('x86' as const, 'aarch64' as const), (segs, pa, rule) => {
      const index = new SegmentIndex(segs, rule);
      const found = index.find(pa);
      const total = segs.reduce((n, s) => n + s.size, 0n);
      const off = libkvmPa2off(segs, pa, rule);
      if (found) expect(BigInt(off)).toBe(found.dataOffset + (pa - found.start));
      else expect(BigInt(off)).toBe(total);
      const next = index.nextBoundary(pa);
      expect(next > pa).toBe(true);
      // The answer does not change before the boundary.
      const before = index.find(next - 1n);
      expect(before?.dataOffset ?? null).toBe(found?.dataOffset ?? null);
    }));
  });

  it('x86 and aarch64 differ only for a segment whose end wraps past 2^64', () => {
    const segs = [{ start: 0xffff_ffff_ffff_f000n, size: 0x2000n }];
    expect(new SegmentIndex(segs, 'x86').find(0xffff_ffff_ffff_f800n)).not.toBeNull();
    expect(new SegmentIndex(segs, 'aarch64').find(0xffff_ffff_ffff_f800n)).toBeNull();
  });
});
