import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { constants as zc, deflateRawSync, gunzipSync, gzipSync } from 'node:zlib';
import { IoError } from '../../core/errno.ts';
import { MemorySource, type DumpSource } from '../../core/source.ts';
import { CachedSource } from '../../core/sources/cached.ts';
import { crc32, isGzip } from '../../core/sources/gzip-format.ts';
import { buildGzipIndex } from '../../core/sources/gzip-index.ts';
import { GzipSource, openGzipSource } from '../../core/sources/gzip-source.ts';
import { patterned, expectSameBytes } from '../fixtures/bytes.ts';
import { concatBytes } from '../../core/format/bytes.ts';

const concat = (...parts: Uint8Array[]) => concatBytes(parts);


/** Crash-dump-like memory: random pages, zero pages and text-ish pages. */
function dumpLike(size: number, seed = 11): Uint8Array {
  const bytes = new Uint8Array(size);
  let x = seed;
  for (let page = 0; page < size; page += 4096) {
    x = (x * 1103515245 + 12345) >>> 0;
    const kind = x >>> 30; // 0..3
    if (kind === 0 || kind === 1) continue; // zero page
    for (let i = page; i < Math.min(page + 4096, size); i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      bytes[i] = kind === 2 ? x >>> 24 : 0x40 + ((i >>> 3) & 0x1f) + (x >>> 31);
    }
  }
  return bytes;
}


/** Counts compressed bytes read, to prove reads don't restart from the beginning. */
class CountingSource implements DumpSource {
  bytesRead = 0;
  constructor(private readonly inner: DumpSource) {}
  get name() {
    return this.inner.name;
  }
  get kind() {
    return this.inner.kind;
  }
  get size() {
    return this.inner.size;
  }
  async pread(buf: Uint8Array, offset: number) {
    const n = await this.inner.pread(buf, offset);
    this.bytesRead += n;
    return n;
  }
}

function memory(bytes: Uint8Array, name = 'dump.gz'): MemorySource {
  return new MemorySource(bytes, name, 'file', false);
}


function le32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

/** A gzip member built by hand, so header flags and trailer fields can be chosen. */
function craftMember(
  data: Uint8Array,
  opts: { flags?: number; extra?: number[]; name?: string; comment?: string; crc?: number; isize?: number; body?: Uint8Array; badHeaderCrc?: boolean } = {},
): Uint8Array {
  const flags = opts.flags ?? 0;
  const header = [0x1f, 0x8b, 8, flags, 0, 0, 0, 0, 0, 3];
  if (flags & 4) header.push(opts.extra!.length & 0xff, opts.extra!.length >> 8, ...opts.extra!);
  if (flags & 8) header.push(...Buffer.from(opts.name ?? 'name'), 0);
  if (flags & 16) header.push(...Buffer.from(opts.comment ?? 'comment'), 0);
  if (flags & 2) {
    const hcrc = crc32(0, Uint8Array.from(header)) ^ (opts.badHeaderCrc ? 1 : 0);
    header.push(hcrc & 0xff, (hcrc >>> 8) & 0xff);
  }
  const body = opts.body ?? deflateRawSync(data);
  const trailer = [...le32(opts.crc ?? crc32(0, data)), ...le32(opts.isize ?? data.length)];
  return concat(Uint8Array.from(header), body, Uint8Array.from(trailer));
}

async function expectEio(promise: Promise<unknown>, ...fragments: (string | RegExp)[]): Promise<IoError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(IoError);
  expect((error as IoError).errno).toBe('EIO');
  for (const f of fragments) expect((error as IoError).message).toMatch(f);
  return error as IoError;
}

async function readAll(src: DumpSource): Promise<Uint8Array> {
  const out = new Uint8Array(src.size);
  expect(await src.pread(out, 0)).toBe(src.size);
  return out;
}

/** Random preads of `gz` (via a GzipSource with small spans) must equal slices of `data`. */
async function checkRandomReads(gz: Uint8Array, data: Uint8Array, spanBytes = 64 * 1024, numRuns = 200): Promise<void> {
  const source = await openGzipSource(memory(gz), { spanBytes, cacheBytes: 2 << 20 });
  expect(source.size).toBe(data.length);
  expect(source.kind).toBe('file');
  await fc.assert(
    fc.asyncProperty(fc.nat({ max: data.length + 10 }), fc.nat({ max: 200_000 }), async (offset, length) => {
      const buf = new Uint8Array(length);
      const n = await source.pread(buf, offset);
      const expected = data.subarray(Math.min(offset, data.length), Math.min(offset + length, data.length));
      expect(n).toBe(expected.length);
      expectSameBytes(buf.subarray(0, n), expected);
    }),
    { numRuns },
  );
}

describe('gzip random access', () => {
  const data = dumpLike(3 << 20);

  it('matches the original for levels 1 and 9', async () => {
    await checkRandomReads(gzipSync(data, { level: 1 }), data);
    await checkRandomReads(gzipSync(data, { level: 9 }), data);
  });

  it('handles stored blocks (level 0)', async () => {
    const gz = gzipSync(data.subarray(0, 700_000), { level: 0 });
    await checkRandomReads(gz, data.subarray(0, 700_000), 32 * 1024, 100);
  });

  it('handles fixed-Huffman, Huffman-only and RLE streams', async () => {
    const part = data.subarray(0, 1 << 20);
    for (const strategy of [zc.Z_FIXED, zc.Z_HUFFMAN_ONLY, zc.Z_RLE]) {
      await checkRandomReads(gzipSync(part, { strategy }), part, 100_000, 40);
    }
  });

  it('decodes arbitrary small inputs exactly (fast-check vs zlib)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 5000 }),
        fc.integer({ min: 0, max: 9 }),
        fc.integer({ min: 0, max: 60 }),
        async (raw, level, repeat) => {
          const input = concat(raw, ...Array.from({ length: repeat }, () => raw.subarray(0, 50)));
          const gz = gzipSync(input, { level });
          const source = await openGzipSource(memory(gz));
          expectSameBytes(await readAll(source), input);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reads multi-member files (concatenated members, like pigz output) across boundaries', async () => {
    const parts = [data.subarray(0, 500_000), new Uint8Array(0), data.subarray(500_000, 1_300_000), data.subarray(1_300_000)];
    const gz = concat(...parts.map((p, i) => gzipSync(p, { level: 1 + (i % 9) })));
    const index = await buildGzipIndex(memory(gz), { spanBytes: 256 * 1024 });
    expect(index.members).toBe(4);
    expect(index.size).toBe(data.length);
    expect(Buffer.from(gunzipSync(gz)).equals(Buffer.from(data))).toBe(true);
    await checkRandomReads(gz, data, 256 * 1024, 150);
  });

  const gzipCli = spawnSync('gzip', ['--version']).status === 0;
  it.skipIf(!gzipCli)('reads a file produced by the gzip command (FNAME header)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvmdump-gz-'));
    try {
      const file = path.join(dir, 'netbsd.0.core');
      fs.writeFileSync(file, data.subarray(0, 1 << 20));
      expect(spawnSync('gzip', ['-6', file]).status).toBe(0);
      const gz = new Uint8Array(fs.readFileSync(`${file}.gz`));
      expect(gz[3] & 8).toBe(8); // FNAME present
      await checkRandomReads(gz, data.subarray(0, 1 << 20), 128 * 1024, 60);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('parses FEXTRA, FNAME, FCOMMENT and FHCRC', async () => {
    const input = data.subarray(0, 100_000);
    const gz = craftMember(input, { flags: 2 | 4 | 8 | 16, extra: [1, 2, 3, 4, 5], name: 'netbsd.5.core', comment: 'crash' });
    expect(Buffer.from(gunzipSync(gz)).equals(Buffer.from(input))).toBe(true);
    expectSameBytes(await readAll(await openGzipSource(memory(gz))), input);
  });

  it('takes the size from decoding, not from ISIZE', async () => {
    const input = data.subarray(0, 50_000);
    const index = await buildGzipIndex(memory(craftMember(input)));
    expect(index.size).toBe(50_000);
    await expectEio(buildGzipIndex(memory(craftMember(input, { isize: 12345 }))), /ISIZE mismatch/, /compressed offset \d+/);
  });

  it('keeps sequential reads linear and random reads local', async () => {
    const big = dumpLike(16 << 20, 5);
    const gz = gzipSync(big, { level: 6 });
    const index = await buildGzipIndex(memory(gz), { spanBytes: 1 << 20 });
    expect(index.checkpoints.length).toBeGreaterThan(10);

    const counting = new CountingSource(memory(gz));
    const source = new GzipSource(counting, index);
    const chunk = new Uint8Array(4096);
    for (let off = 0; off < big.length; off += chunk.length) {
      await source.pread(chunk, off);
      if (off % (1 << 20) === 0) expectSameBytes(chunk, big.subarray(off, off + 4096));
    }
    expect(counting.bytesRead).toBeLessThan(gz.length * 1.5);

    const fresh = new CountingSource(memory(gz));
    const random = new GzipSource(fresh, index);
    const tail = new Uint8Array(16);
    await random.pread(tail, big.length - 16);
    expectSameBytes(tail, big.subarray(big.length - 16));
    expect(fresh.bytesRead).toBeLessThan(gz.length / 4);
  });

  it('serves concurrent reads correctly and works behind CachedSource', async () => {
    const gz = gzipSync(data, { level: 6 });
    const source = new CachedSource(await openGzipSource(memory(gz), { spanBytes: 256 * 1024 }));
    const offsets = Array.from({ length: 50 }, (_, i) => (i * 987_654) % (data.length - 100));
    const results = await Promise.all(
      offsets.map(async (off) => {
        const buf = new Uint8Array(100);
        await source.pread(buf, off);
        return buf;
      }),
    );
    results.forEach((buf, i) => expect(buf).toEqual(data.subarray(offsets[i], offsets[i] + 100)));
    expect(source.pwrite).toBeUndefined();
  });

  it('reports progress and honours abort', async () => {
    const gz = gzipSync(dumpLike(4 << 20), { level: 1 });
    const calls: [number, number][] = [];
    await buildGzipIndex(memory(gz), { onProgress: (done, total) => calls.push([done, total]) });
    expect(calls.length).toBeGreaterThan(0);
    expect(calls[calls.length - 1]).toEqual([gz.length, gz.length]);

    const controller = new AbortController();
    const aborting = buildGzipIndex(memory(gz), { onProgress: () => controller.abort(), signal: controller.signal });
    const error = await aborting.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(IoError);
    expect((error as IoError).errno).toBe('ECANCELED');
  });

  it('ignores trailing zero padding with a warning', async () => {
    const input = data.subarray(0, 10_000);
    const index = await buildGzipIndex(memory(concat(gzipSync(input), new Uint8Array(512))));
    expect(index.size).toBe(10_000);
    expect(index.warnings.join()).toMatch(/trailing data/);
  });

  it('isGzip checks the magic', async () => {
    expect(await isGzip(memory(gzipSync(new Uint8Array(10))))).toBe(true);
    expect(await isGzip(memory(Uint8Array.from([0x1f])))).toBe(false);
    expect(await isGzip(memory(new Uint8Array(100)))).toBe(false);
  });
});

describe('gzip corruption → IoError EIO naming the offset', () => {
  const input = dumpLike(200_000, 9);
  const good = new Uint8Array(gzipSync(input, { level: 6 })); // a copy: Buffer.slice() would alias

  it('bad magic, method, reserved flags, header CRC', async () => {
    await expectEio(buildGzipIndex(memory(new Uint8Array(0))), /empty file/);
    await expectEio(buildGzipIndex(memory(Uint8Array.from([0x1f, 0x8c, 8, 0, 0, 0, 0, 0, 0, 3]))), /bad gzip magic.*compressed offset 0/);
    const method = good.slice();
    method[2] = 7;
    await expectEio(buildGzipIndex(memory(method)), /compression method 7.*offset 2/);
    const reserved = good.slice();
    reserved[3] = 0x20;
    await expectEio(buildGzipIndex(memory(reserved)), /reserved gzip header flags.*offset 3/);
    await expectEio(buildGzipIndex(memory(craftMember(input, { flags: 2, badHeaderCrc: true }))), /header CRC mismatch.*offset 10/);
  });

  it('bad block type and bad codes', async () => {
    await expectEio(buildGzipIndex(memory(craftMember(input, { body: Uint8Array.from([0x07, 0, 0]) }))), /invalid block type.*compressed offset 10/);
    // A fixed block whose first symbol is the invalid length code 286 (11000110).
    await expectEio(buildGzipIndex(memory(craftMember(input, { body: Uint8Array.from([0x1b, 0x03, 0, 0]) }))), /invalid literal\/length code/);
    // A stored block whose LEN and NLEN disagree.
    await expectEio(buildGzipIndex(memory(craftMember(input, { body: Uint8Array.from([0x01, 5, 0, 5, 0]) }))), /invalid stored block lengths/);
  });

  it('CRC mismatch names the trailer offset', async () => {
    const bad = good.slice();
    bad[bad.length - 8] ^= 0xff;
    await expectEio(buildGzipIndex(memory(bad)), new RegExp(`CRC-32 mismatch.*compressed offset ${good.length - 8}`));
  });

  it('truncation anywhere is EIO (never a hang, never another error)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: good.length - 1 }), async (cut) => {
        await expectEio(buildGzipIndex(memory(good.subarray(0, cut))), /truncated|corrupt/);
      }),
      { numRuns: 150 },
    );
  });

  it('random byte damage is detected or harmless, never another error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: good.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        async (at, xor) => {
          const bad = good.slice();
          bad[at] ^= xor;
          const error = await buildGzipIndex(memory(bad)).then(
            () => null,
            (e: unknown) => e,
          );
          if (error === null) return; // e.g. MTIME/OS bytes are not checked
          expect(error).toBeInstanceOf(IoError);
          expect((error as IoError).errno).toBe('EIO');
          expect((error as IoError).message).toMatch(/^dump\.gz: .*offset \d+/);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a GzipSource over damaged data rejects reads with EIO too', async () => {
    const index = await buildGzipIndex(memory(good), { spanBytes: 50_000 });
    const bad = good.slice();
    for (let i = 2000; i < good.length - 100; i += 997) bad[i] ^= 0x5a;
    const source = new GzipSource(memory(bad), index);
    await expectEio(source.pread(new Uint8Array(input.length), 0));
  });
});

describe('gzip throughput', () => {
  it('indexes 64 MiB of dump-like data in reasonable time (compared with node:zlib)', async () => {
    const size = 64 << 20;
    const data = dumpLike(size, 21);
    const gz = gzipSync(data, { level: 6 });

    let started = performance.now();
    const unzipped = gunzipSync(gz);
    const zlibMs = performance.now() - started;
    expect(unzipped.length).toBe(size);

    started = performance.now();
    const index = await buildGzipIndex(memory(gz));
    const indexMs = performance.now() - started;
    expect(index.size).toBe(size);

    const source = new GzipSource(memory(gz), index);
    const buf = new Uint8Array(size);
    started = performance.now();
    await source.pread(buf, 0);
    const readMs = performance.now() - started;
    expect(Buffer.from(buf).equals(Buffer.from(data))).toBe(true);

    const mbps = (ms: number) => (size / (1 << 20) / (ms / 1000)).toFixed(0);
    const ratio = indexMs / zlibMs;
    console.log(
      `gzip 64 MiB (${(gz.length / (1 << 20)).toFixed(1)} MiB compressed): index ${indexMs.toFixed(0)} ms = ${mbps(indexMs)} MB/s ` +
        `(with CRC), full read ${readMs.toFixed(0)} ms = ${mbps(readMs)} MB/s, zlib gunzipSync ${zlibMs.toFixed(0)} ms = ${mbps(zlibMs)} MB/s, ` +
        `index/zlib ratio ${ratio.toFixed(2)}`,
    );
    expect(ratio).toBeLessThan(15);
  }, 180_000); // generous: shared CI machines can be heavily loaded
});
