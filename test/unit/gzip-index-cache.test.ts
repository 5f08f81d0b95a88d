// The gzip index cache: a second open of the same .gz reuses the index (no decompression), any
// change to the compressed bytes or damage to the cache file means a rebuild, and an unwritable
// cache directory costs time, never correctness.
import { describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { MemorySource, type DumpSource } from '../../core/source.ts';
import { buildGzipIndex } from '../../core/sources/gzip-index.ts';
import { decodeGzipIndex, encodeGzipIndex } from '../../core/sources/gzip-index-file.ts';
import { GzipSource } from '../../core/sources/gzip-source.ts';
import { gzipIndexCacheDir, loadOrBuildGzipIndex } from '../../main/session/gzip-index-cache.ts';
import { expectSameBytes, patterned } from '../fixtures/bytes.ts';

/** Half random, half zero pages: several checkpoints with real windows. */
function data(size: number): Uint8Array {
  const b = patterned(size, 5);
  for (let p = 0; p < size; p += 8192) b.fill(0, p, Math.min(p + 4096, size));
  return b;
}

/** Counts pread calls, to tell a cache hit (hash only) from a rebuild (hash + inflate). */
class Counting implements DumpSource {
  reads = 0;
  constructor(private readonly inner: MemorySource) {}
  get name() { return this.inner.name; }
  get kind() { return this.inner.kind; }
  get size() { return this.inner.size; }
  async pread(buf: Uint8Array, off: number) {
    this.reads++;
    return this.inner.pread(buf, off);
  }
}

describe('gzip index file', () => {
  const raw = data(6 << 20);
  const gz = new MemorySource(gzipSync(raw, { level: 1 }));

  it('round-trips: the decoded index reads the same bytes', async () => {
    const index = await buildGzipIndex(gz, { spanBytes: 1 << 20 });
    expect(index.checkpoints.length).toBeGreaterThan(2);
    const fp = Uint8Array.of(1, 2, 3);
    const again = decodeGzipIndex(encodeGzipIndex(index, fp), fp, gz.size)!;
    expect(again).toEqual(index);
    const buf = new Uint8Array(100_000);
    await new GzipSource(gz, again).pread(buf, 3_000_000);
    expectSameBytes(buf, raw.subarray(3_000_000, 3_100_000));
  });

  it('is refused for another fingerprint, another size, or any damaged byte', async () => {
    const index = await buildGzipIndex(gz, { spanBytes: 1 << 20 });
    const fp = Uint8Array.of(9, 9);
    const bytes = encodeGzipIndex(index, fp);
    expect(decodeGzipIndex(bytes, Uint8Array.of(9, 8), gz.size)).toBeNull();
    expect(decodeGzipIndex(bytes, fp, gz.size + 1)).toBeNull();
    for (const at of [0, 20, 60, bytes.length >> 1, bytes.length - 1]) {
      const bad = bytes.slice();
      bad[at] ^= 0x40;
      expect(decodeGzipIndex(bad, fp, gz.size)).toBeNull();
    }
    expect(decodeGzipIndex(bytes.subarray(0, bytes.length - 9), fp, gz.size)).toBeNull();
  });
});

describe('loadOrBuildGzipIndex', () => {
  const raw = data(4 << 20);
  const compressed = gzipSync(raw, { level: 1 });

  it('builds once, then reuses the cached index without inflating again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvmdump-gzcache-'));
    const first = new Counting(new MemorySource(compressed));
    const a = await loadOrBuildGzipIndex(first, {}, dir);
    expect(readdirSync(dir).filter((n) => n.endsWith('.idx'))).toHaveLength(1);
    const second = new Counting(new MemorySource(compressed));
    const b = await loadOrBuildGzipIndex(second, {}, dir);
    expect(b).toEqual(a);
    expect(second.reads).toBeLessThan(first.reads); // hashing only
  });

  it('rebuilds when one compressed byte differs or the cache file is damaged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvmdump-gzcache-'));
    await loadOrBuildGzipIndex(new MemorySource(compressed), {}, dir);
    const [idx] = readdirSync(dir);
    const damaged = readFileSync(join(dir, idx));
    damaged[damaged.length >> 1] ^= 1;
    writeFileSync(join(dir, idx), damaged);
    const again = await loadOrBuildGzipIndex(new MemorySource(compressed), {}, dir);
    expect(again.size).toBe(raw.length);
    const other = new Uint8Array(compressed); // a copy (Buffer#slice would share memory)
    other[other.length - 5] ^= 1; // the trailer CRC no longer matches: this is different data
    await expect(loadOrBuildGzipIndex(new MemorySource(other), {}, dir)).rejects.toThrow(/EIO|CRC|corrupt/i);
  });

  it('works with an unwritable cache directory, and KVMDUMP_NO_CACHE turns the cache off', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvmdump-gzcache-'));
    chmodSync(dir, 0o500);
    const index = await loadOrBuildGzipIndex(new MemorySource(compressed), {}, join(dir, 'sub', 'dir'));
    expect(index.size).toBe(raw.length);
    expect(gzipIndexCacheDir({ KVMDUMP_NO_CACHE: '1' })).toBeNull();
    expect(gzipIndexCacheDir({ KVMDUMP_CACHE_DIR: '/x' })).toBe(join('/x', 'gzip-index'));
    expect(gzipIndexCacheDir({ XDG_CACHE_HOME: '/c' }, 'linux')).toBe(join('/c', 'kvmdump', 'gzip-index'));
  });
});
