// Read-back verification of a -z core: members inflated in parallel must prove exactly what the
// sequential gunzip proves — the archive decompresses to the header and memory acquired. With the
// gzip writer's member proof (each member inflated on its worker and compared with its chunk), the
// read-back re-hashes the file, and must still fail a bad member, a flipped byte or a truncation.
import { describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { verifyCore, type VerifyExpectation } from '../../main/jobs/savecore/verify.ts';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const MEMBER_START = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00]);

/** A core of header + memory, gzipped as compress.ts does: one member per chunk. */
function archive(memory: Buffer, chunk: number, level = 1) {
  const header = Buffer.alloc(512, 7);
  const core = Buffer.concat([header, memory]);
  const members: Buffer[] = [];
  for (let off = 0; off < core.length; off += chunk) members.push(gzipSync(core.subarray(off, off + chunk), { level }));
  const file = Buffer.concat(members);
  const exp = (path: string): VerifyExpectation => ({
    path, compressed: true, headerLength: header.length, headerSha256: sha(header),
    memoryLength: memory.length, memorySha256: sha(memory), fileSha256: sha(file), checkFileHash: true,
  });
  return { file, exp };
}

describe('verifyCore on a multi-member gzip core', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kvmdump-verify-'));
  const mixed = Buffer.concat(Array.from({ length: 96 }, (_, i) => (i % 3 === 0 ? randomBytes(1 << 18) : Buffer.alloc(1 << 18, i % 2 ? 0 : 0x41))));

  it('passes an archive of many members (more than one read of 8 MiB), reporting the full length', async () => {
    const { file, exp } = archive(mixed, 1 << 20);
    const path = join(dir, 'ok.gz');
    writeFileSync(path, file);
    const seen: number[] = [];
    const r = await verifyCore(exp(path), { onProgress: (d) => seen.push(d) });
    expect(r).toMatchObject({ ok: true, reason: null, coreLength: 512 + mixed.length, fileSha256Checked: true });
    expect(seen.at(-1)).toBe(512 + mixed.length);
  });

  it('still passes when member-start bytes occur inside compressed data (falls back to reading in order)', async () => {
    // stored blocks (level 0) copy the input: a member-start pattern in the memory appears verbatim mid-member
    // (in the last member, so it is the last start seen and the parallel pass cuts there)
    const trap = Buffer.concat([randomBytes(3 << 20), MEMBER_START, Buffer.from([0x00, 0x03]), randomBytes(100_000)]);
    const { file, exp } = archive(trap, 2 << 20, 0);
    expect(file.lastIndexOf(MEMBER_START)).toBeGreaterThan(file.length - 200_000);
    const path = join(dir, 'trap.gz');
    writeFileSync(path, file);
    expect(await verifyCore(exp(path))).toMatchObject({ ok: true, coreLength: 512 + trap.length });
  });

  it('fails a damaged member, and memory that is not what was acquired, with the reason', async () => {
    const { file, exp } = archive(mixed, 1 << 20);
    const damaged = Buffer.from(file);
    damaged[damaged.length >> 1] ^= 0xff;
    const p1 = join(dir, 'damaged.gz');
    writeFileSync(p1, damaged);
    const r1 = await verifyCore(exp(p1)).catch((e: Error) => ({ ok: false, reason: e.message }));
    expect(r1.ok).toBe(false);

    const other = Buffer.from(mixed);
    other[12345] ^= 1;
    const { file: f2 } = archive(other, 1 << 20);
    const p2 = join(dir, 'other.gz');
    writeFileSync(p2, f2);
    const r2 = await verifyCore({ ...exp(p2), fileSha256: sha(f2) });
    expect(r2).toMatchObject({ ok: false });
    expect(r2.reason).toMatch(/memory data SHA-256 .* differs from the dump's/);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('the parallel gzip writer reusing its chunk buffers', () => {
  it('writes members that decompress to exactly the bytes given, a short last chunk included (no stale bytes)', async () => {
    const { gunzipSync } = await import('node:zlib');
    const { GzipPool, ParallelGzipWriter } = await import('../../main/jobs/savecore/compress.ts');
    const pool = new GzipPool(1, 2);
    try {
      const parts: Uint8Array[] = [];
      const gz = new ParallelGzipWriter(pool, { write: async (c) => void parts.push(c) }, 1 << 16);
      // 40 full chunks of distinct bytes (buffers come back and are refilled), then a short one
      const input = Buffer.concat([...Array.from({ length: 40 }, (_, i) => Buffer.alloc(1 << 16, i + 1)), Buffer.alloc(1000, 0xee)]);
      for (let off = 0; off < input.length; off += 12_345) await gz.write(input.subarray(off, off + 12_345));
      await gz.end();
      expect(sha(gunzipSync(Buffer.concat(parts)))).toBe(sha(input));
    } finally {
      await pool.close();
    }
  });
});

describe('zero chunks as a precomputed member', () => {
  it('an archive with zero chunks is byte for byte what compressing every chunk gives; gunzip -t accepts it and it inflates to the input', async () => {
    const { execFileSync } = await import('node:child_process');
    const { gunzipSync } = await import('node:zlib');
    const { GzipPool, ParallelGzipWriter, isAllZero } = await import('../../main/jobs/savecore/compress.ts');
    const chunk = 1 << 16;
    const pool = new GzipPool(6, 2);
    const dir = mkdtempSync(join(tmpdir(), 'kvmdump-zero-member-'));
    try {
      const parts: Uint8Array[] = [];
      const gz = new ParallelGzipWriter(pool, { write: async (c) => void parts.push(c) }, chunk);
      // zero chunks, runs of them, data chunks, a chunk zero but for its last byte, a short zero tail
      const pieces = [0, 0, 1, 0, 0, 0, 2, 0].map((k) => (k === 0 ? Buffer.alloc(chunk) : randomBytes(chunk)));
      const almost = Buffer.alloc(chunk);
      almost[chunk - 1] = 1;
      const input = Buffer.concat([...pieces, almost, Buffer.alloc(777)]);
      for (let off = 0; off < input.length; off += 10_000) await gz.write(input.subarray(off, off + 10_000));
      await gz.end();
      const file = Buffer.concat(parts);
      const expected = [];
      for (let off = 0; off < input.length; off += chunk) expected.push(gzipSync(input.subarray(off, off + chunk), { level: 6 }));
      expect(sha(file)).toBe(sha(Buffer.concat(expected)));
      expect(sha(gunzipSync(file))).toBe(sha(input));
      const path = join(dir, 'zero.gz');
      writeFileSync(path, file);
      execFileSync('gunzip', ['-t', path]); // throws on a bad archive
      expect(isAllZero(Buffer.alloc(4097))).toBe(true);
      expect(isAllZero(almost)).toBe(false);
      expect(isAllZero(Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 3]).subarray(1))).toBe(false);
    } finally {
      await pool.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('verification by member proof (the writer checks each member, the read-back hashes the file)', () => {
  const header = Buffer.alloc(512, 7);
  const memory = Buffer.concat(Array.from({ length: 40 }, (_, i) => (i % 4 === 0 ? randomBytes(1 << 16) : Buffer.alloc(1 << 16, i % 3 ? 0 : 0x41))));
  const chunk = 1 << 16;

  /** Write header + memory through the pool and writer as save.ts does, hashing the chunks, into a file. */
  async function written(path: string, opts: { tamperMember?(n: number): 'flip' | 'swap' | undefined; onChunk?(c: Uint8Array): void } = {}) {
    const { writeFileSync: write } = await import('node:fs');
    const { GzipPool, ParallelGzipWriter } = await import('../../main/jobs/savecore/compress.ts');
    const pool = new GzipPool(6, 2, { tamperMember: opts.tamperMember });
    try {
      const parts: Uint8Array[] = [];
      const h = createHash('sha256');
      const m = createHash('sha256');
      let at = 0;
      const gz = new ParallelGzipWriter(pool, { write: async (c) => void parts.push(c) }, chunk, {
        onChunk: (c) => {
          const k = Math.max(0, Math.min(c.length, header.length - at));
          h.update(c.subarray(0, k));
          m.update(c.subarray(k));
          at += c.length;
          opts.onChunk?.(c);
        },
      });
      await gz.write(header);
      for (let off = 0; off < memory.length; off += 50_000) await gz.write(memory.subarray(off, off + 50_000));
      await gz.end();
      const file = Buffer.concat(parts);
      write(path, file);
      const exp: VerifyExpectation = {
        path, compressed: true, headerLength: header.length, headerSha256: sha(header), memoryLength: memory.length,
        memorySha256: sha(memory), fileSha256: sha(file), checkFileHash: true,
        members: { ...gz.proof(), headerSha256: h.digest('hex'), memorySha256: m.digest('hex') },
      };
      return { file, exp };
    } finally {
      await pool.close();
    }
  }

  it('passes a good archive: every member proven, the file re-read and hashed, gunzip -t accepts it', async () => {
    const { execFileSync } = await import('node:child_process');
    const { gunzipSync } = await import('node:zlib');
    const dir = mkdtempSync(join(tmpdir(), 'kvmdump-proof-'));
    try {
      const path = join(dir, 'ok.gz');
      const { file, exp } = await written(path);
      const members = Math.ceil((header.length + memory.length) / chunk);
      expect(exp.members).toMatchObject({ members, length: header.length + memory.length, failure: null });
      const seen: number[] = [];
      const r = await verifyCore(exp, { onProgress: (d) => seen.push(d) });
      expect(r).toMatchObject({ ok: true, reason: null, method: 'member-proof', members, fileSha256Checked: true, coreLength: header.length + memory.length });
      expect(seen.at(-1)).toBe(header.length + memory.length);
      expect(sha(gunzipSync(file))).toBe(sha(Buffer.concat([header, memory])));
      execFileSync('gunzip', ['-t', path]);
      // the same file through the read-back inflate agrees
      expect(await verifyCore({ ...exp, members: undefined })).toMatchObject({ ok: true, method: 'read-back' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails a member that does not inflate to its chunk (damaged on the worker before its check), naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvmdump-proof-'));
    try {
      // chunks are offset by the 512-byte header: chunk 2 (zero) takes the zero member, made by compress() call 2; chunk 3 is call 3
      const { exp } = await written(join(dir, 'bad.gz'), { tamperMember: (n) => (n === 3 ? 'flip' : undefined) });
      expect(exp.members!.failure).toMatch(/^gzip member 3 \(uncompressed bytes 196608-262144\) (does not inflate|inflates to)/);
      const r = await verifyCore(exp);
      expect(r).toMatchObject({ ok: false, method: 'member-proof' });
      expect(r.reason).toMatch(/gzip member 3/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails when the precomputed all-zero member is bad (it is checked once, when made)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvmdump-proof-'));
    try {
      // chunk 2 (memory bytes 130560-196096, blocks 1 and 2: zeros) is the first all-zero chunk: compress() call 2 makes its member
      const { exp } = await written(join(dir, 'zero.gz'), { tamperMember: (n) => (n === 2 ? 'swap' : undefined) });
      expect(exp.members!.failure).toBe('gzip member 2 (uncompressed bytes 131072-196608) inflates to 65537 bytes that differ from its 65536 input bytes');
      expect((await verifyCore(exp)).ok).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails a chunk that is not the bytes given (trailer CRC32 against the bytes as written to the writer)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvmdump-proof-'));
    try {
      let n = 0;
      const { exp } = await written(join(dir, 'copy.gz'), { onChunk: (c) => void (n++ === 5 && (c[100] ^= 1)) });
      expect(exp.members!.failure).toMatch(/^gzip member 5 .*: trailer CRC32 [0-9a-f]{8} differs from the CRC32 [0-9a-f]{8} of the bytes given$/);
      expect((await verifyCore(exp)).ok).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails a flipped byte in the file on disk, and a truncated archive', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvmdump-proof-'));
    try {
      const path = join(dir, 'disk.gz');
      const { file, exp } = await written(path);
      for (const at of [0, 10, file.length >> 1, file.length - 5, file.length - 1]) {
        const b = Buffer.from(file);
        b[at] ^= 0x01;
        writeFileSync(path, b);
        const r = await verifyCore(exp);
        expect(r).toMatchObject({ ok: false, reason: 'file SHA-256 differs from the bytes written' });
      }
      for (const cut of [file.length - 1, file.length >> 1, 0]) {
        writeFileSync(path, file.subarray(0, cut));
        expect(await verifyCore(exp)).toMatchObject({ ok: false, reason: 'file SHA-256 differs from the bytes written' });
      }
      writeFileSync(path, Buffer.concat([file, Buffer.from([0x1f, 0x8b])]));
      expect((await verifyCore(exp)).ok).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the plain core read back while it is written (fsynced and re-read range by range)', () => {
  it('saveCore with small ranges: verified, the ranges re-read during the copy; a byte changed or a truncation after the last fsync fails', async () => {
    const { openDump } = await import('../../main/session/open-dump.ts');
    const { saveCore } = await import('../../main/jobs/savecore/save.ts');
    const { writeDump } = await import('./savecore-fixture.ts');
    const { readFileSync } = await import('node:fs');
    const x = writeDump({ flavour: 'amd64', seed: 61, memMiB: 4 });
    const opened = await openDump({ kernelPath: x.kernel, dumpPath: x.device, dumpOffset: x.img.facts.dumpOff });
    try {
      const { vi } = await import('vitest');
      const { PipelinedReadBack } = await import('../../main/jobs/savecore/verify.ts');
      let copied = 0;
      const through: [number | null, number][] = [];
      const original = PipelinedReadBack.prototype.through;
      const spy = vi.spyOn(PipelinedReadBack.prototype, 'through').mockImplementation(function (this: import('../../main/jobs/savecore/verify.ts').PipelinedReadBack, end, signal) {
        through.push([end, copied]);
        return original.call(this, end, signal);
      });
      const save = async (n: number, damage?: (temp: string) => void) => {
        const r = await saveCore({
          kd: opened.kd, memorySource: opened.rawDump, deviceName: x.device, kernelSource: opened.kernel!, ksyms: null,
          corePath: join(x.crashDir, `netbsd.${n}.core`), kernelPath: join(x.crashDir, `netbsd.${n}`), dumpbytes: 3 << 20,
          compress: false, level: 1, blockSize: 1 << 16, gzipChunkSize: 1 << 20, readBackRange: 256 << 10,
          emit: () => undefined, log: () => undefined,
          onBlockCopied: (done) => void (copied = done),
          beforeVerify: damage,
        });
        return { r };
      };
      const ok = await save(0);
      spy.mockRestore();
      expect(ok.r.ok).toBe(true);
      // ranges of 256 KiB re-read while blocks were still being copied, then the rest (to EOF) at the end
      const during = through.filter(([end, at]) => end !== null && at < 3 << 20);
      expect(during.length).toBeGreaterThan(1);
      expect(during.every(([end, at]) => end! <= ok.r.core!.headerLength + at)).toBe(true); // never ahead of what was written
      expect(through.at(-1)![0]).toBeNull();
      expect(ok.r.coreVerification).toMatchObject({ ok: true, method: 'read-back', fileSha256Checked: false, coreLength: ok.r.core!.headerLength + (3 << 20) });
      expect(ok.r.coreVerification!.memorySha256).toBe(ok.r.core!.memorySha256);
      const device = readFileSync(x.device);
      expect(createHash('sha256').update(device.subarray(opened.kd.dumpOff, opened.kd.dumpOff + (3 << 20))).digest('hex')).toBe(ok.r.core!.memorySha256);

      const flipped = await save(1, (temp) => {
        const b = readFileSync(temp);
        b[b.length - 3] ^= 0x20;
        writeFileSync(temp, b);
      });
      expect([flipped.r.ok, flipped.r.failure]).toEqual([false, 'verify']);
      expect(flipped.r.coreVerification!.reason).toMatch(/memory data SHA-256 .* differs from the dump's/);

      const cut = await save(2, (temp) => writeFileSync(temp, readFileSync(temp).subarray(0, -1000)));
      expect([cut.r.ok, cut.r.failure]).toEqual([false, 'verify']);
      expect(cut.r.coreVerification!.reason).toMatch(/^core holds \d+ bytes, expected \d+$/);
    } finally {
      await opened.close();
      rmSync(x.root, { recursive: true, force: true });
    }
  });

  it('PipelinedReadBack: ranges re-read as they are synced, the rest at finish; the verdict is verifyCore\'s', async () => {
    const { PipelinedReadBack } = await import('../../main/jobs/savecore/verify.ts');
    const dir = mkdtempSync(join(tmpdir(), 'kvmdump-readback-'));
    try {
      const header = Buffer.alloc(700, 3);
      const memory = randomBytes((9 << 20) + 123); // more than the read-back's 4 buffers of 4 MiB: they are reused
      const file = Buffer.concat([header, memory]);
      const path = join(dir, 'core');
      const exp: VerifyExpectation = {
        path, compressed: false, headerLength: header.length, headerSha256: sha(header), memoryLength: memory.length,
        memorySha256: sha(memory), fileSha256: sha(file),
      };
      const check = async (content: Buffer, cuts: number[]) => {
        writeFileSync(path, content);
        const rb = await PipelinedReadBack.open(path, header.length);
        try {
          for (const c of cuts) await rb.through(c);
          return await rb.finish(exp);
        } finally {
          await rb.dispose();
        }
      };
      expect(await check(file, [100, 5000, 4 << 20, 13 << 20])).toMatchObject({ ok: true, coreLength: file.length, method: 'read-back' });
      expect(await check(file, [])).toMatchObject({ ok: true });
      const bad = Buffer.from(file);
      bad[300] ^= 1;
      expect((await check(bad, [1 << 20])).reason).toBe('core header differs from the header written');
      expect((await check(Buffer.concat([file, Buffer.of(0)]), [1 << 20])).reason).toMatch(/^core holds/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
