import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MemorySource, type DumpSource } from '../../core/source.ts';
import { CachedSource } from '../../core/sources/cached.ts';
import { patterned, expectSameBytes } from '../fixtures/bytes.ts';



/** Counts reads reaching the inner source. */
class CountingSource implements DumpSource {
  reads = 0;
  constructor(readonly inner: MemorySource) {}
  get name() {
    return 'counting';
  }
  get kind() {
    return this.inner.kind;
  }
  get size() {
    return this.inner.size;
  }
  pread(buf: Uint8Array, offset: number) {
    this.reads++;
    return this.inner.pread(buf, offset);
  }
  pwrite(buf: Uint8Array, offset: number) {
    return this.inner.pwrite!(buf, offset);
  }
}

describe('CachedSource', () => {
  it('passes name, kind and size through', () => {
    const cached = new CachedSource(new MemorySource(new Uint8Array(123), 'disk', 'chardev', false));
    expect(cached.name).toBe('disk');
    expect(cached.kind).toBe('chardev');
    expect(cached.size).toBe(123);
    expect(cached.pwrite).toBeUndefined();
  });

  it('returns the same bytes as the uncached source for random reads', async () => {
    const data = patterned(300_000);
    const plain = new MemorySource(data, 'm', 'file', false);
    const cached = new CachedSource(new MemorySource(data, 'm', 'file', false), {
      blockSize: 4096,
      maxBytes: 64 * 1024,
    });
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: 310_000 }), fc.nat({ max: 40_000 }), async (offset, length) => {
        const a = new Uint8Array(length);
        const b = new Uint8Array(length);
        const na = await plain.pread(a, offset);
        const nb = await cached.pread(b, offset);
        expect(nb).toBe(na);
        expectSameBytes(b, a);
      }),
      { numRuns: 500 },
    );
    expect(cached.stats.hits).toBeGreaterThan(0);
    expect(cached.stats.bypassed).toBeGreaterThan(0);
  });

  it('makes repeated tiny reads cheap', async () => {
    const counting = new CountingSource(new MemorySource(patterned(1 << 20)));
    const cached = new CachedSource(counting);
    const pte = new Uint8Array(8);
    for (let i = 0; i < 10_000; i++) await cached.pread(pte, (i * 8) % 65536);
    expect(counting.reads).toBe(1);
  });

  it('bounds its memory (evicts least recently used blocks)', async () => {
    const counting = new CountingSource(new MemorySource(patterned(1 << 20)));
    const cached = new CachedSource(counting, { blockSize: 4096, maxBytes: 2 * 4096 });
    const one = new Uint8Array(1);
    await cached.pread(one, 0); // block 0
    await cached.pread(one, 4096); // block 1
    await cached.pread(one, 0); // block 0 is now most recent
    await cached.pread(one, 8192); // evicts block 1
    expect(counting.reads).toBe(3);
    await cached.pread(one, 0);
    expect(counting.reads).toBe(3);
    await cached.pread(one, 4096);
    expect(counting.reads).toBe(4);
  });

  it('writes through and invalidates overlapping blocks', async () => {
    const data = patterned(100_000);
    const memory = new MemorySource(data.slice());
    const cached = new CachedSource(memory, { blockSize: 4096 });
    const before = new Uint8Array(10_000);
    await cached.pread(before, 3000); // caches blocks 0..3
    const patch = new Uint8Array(5000).fill(0xab);
    expect(await cached.pwrite!(patch, 4000)).toBe(5000);
    const after = new Uint8Array(10_000);
    await cached.pread(after, 3000);
    const expected = data.slice(3000, 13_000);
    expected.fill(0xab, 1000, 6000);
    expectSameBytes(after, expected);
    expect(memory.contents.subarray(4000, 9000).every((b) => b === 0xab)).toBe(true);
  });

  it('sees growth after a write past the end (short last block invalidated)', async () => {
    const memory = new MemorySource(patterned(5000));
    const cached = new CachedSource(memory, { blockSize: 4096 });
    const buf = new Uint8Array(100);
    expect(await cached.pread(buf, 4990)).toBe(10);
    await cached.pwrite!(Uint8Array.from([1, 2, 3]), 20_000);
    expect(cached.size).toBe(20_003);
    expect(await cached.pread(buf, 4990)).toBe(100);
    const tail = new Uint8Array(3);
    expect(await cached.pread(tail, 20_000)).toBe(3);
    expect(Array.from(tail)).toEqual([1, 2, 3]);
  });

  it('does not cache failed reads', async () => {
    let fail = true;
    const flaky: DumpSource = {
      name: 'flaky',
      kind: 'file',
      size: 8192,
      async pread(buf) {
        if (fail) throw Object.assign(new Error('boom'), { code: 'EIO' });
        buf.fill(1);
        return buf.length;
      },
    };
    const cached = new CachedSource(flaky);
    await expect(cached.pread(new Uint8Array(4), 0)).rejects.toThrow('boom');
    fail = false;
    const buf = new Uint8Array(4);
    expect(await cached.pread(buf, 0)).toBe(4);
    expect(Array.from(buf)).toEqual([1, 1, 1, 1]);
  });
});
