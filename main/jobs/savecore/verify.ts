// Verify-before-invalidate: read the written core back from disk (through gunzip for -z), and
// check that its header is the one written and its memory data hashes to what was read from the
// device. Only a core that passes may be the reason to destroy the dump.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { promisify } from 'node:util';
import { createGunzip, gunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { streamSha256 } from './hash.ts';

export interface VerifyExpectation {
  path: string;
  compressed: boolean;
  /** D: bytes of format-B header before the memory data. */
  headerLength: number;
  headerSha256: string;
  memoryLength: number;
  memorySha256: string;
  /** SHA-256 of the file's bytes as written (compressed for -z). */
  fileSha256: string;
  /** Re-hash the file's bytes too (needed for -z; redundant for a plain core). */
  checkFileHash?: boolean;
}

export interface VerifyResult {
  ok: boolean;
  reason: string | null;
  fileSha256: string;
  headerSha256: string;
  memorySha256: string;
  /** Bytes of core data found (decompressed). */
  coreLength: number;
  /** Whether fileSha256 was recomputed from the file (else it is the hash taken while writing). */
  fileSha256Checked: boolean;
}

export async function verifyCore(
  exp: VerifyExpectation, opts: { signal?: AbortSignal; onProgress?: (done: number) => void } = {},
): Promise<VerifyResult> {
  if (exp.compressed) {
    const parallel = await verifyMembersInParallel(exp, opts);
    if (parallel) return parallel;
  }
  return verifySequentially(exp, opts);
}

/** The same checks over what has been decompressed: header, memory and file hashes, length. */
function judge(exp: VerifyExpectation, result: Omit<VerifyResult, 'ok' | 'reason'>): VerifyResult {
  const expectedLength = exp.headerLength + exp.memoryLength;
  const reason =
    result.coreLength !== expectedLength ? `core holds ${result.coreLength} bytes, expected ${expectedLength}`
    : result.headerSha256 !== exp.headerSha256 ? 'core header differs from the header written'
    : result.memorySha256 !== exp.memorySha256 ? `memory data SHA-256 ${result.memorySha256} differs from the dump's ${exp.memorySha256}`
    : result.fileSha256 !== exp.fileSha256 ? 'file SHA-256 differs from the bytes written'
    : null;
  return { ok: reason === null, reason, ...result };
}

const gunzipAsync = promisify(gunzip);
/** Start of every member compress.ts writes: magic, deflate, no flags, mtime 0 (the XFL byte varies, OS is Unix). */
const MEMBER_START = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00]);
const READ_SIZE = 8 << 20;
const INFLIGHT = 3;

/**
 * Inflate at 300 MB/s on one thread was the serial stage of a verified -z export. The archive is
 * independent members (compress.ts), so it is cut at member starts and the pieces inflate on the
 * thread pool side by side, their output hashed in file order. A cut at bytes that merely look like
 * a member start leaves a truncated member, which gunzip rejects: then this returns null and the
 * archive is verified the sequential way, so a pass always means the file, decompressed in order,
 * is exactly the header and memory acquired (and the file hash proves it is the bytes written).
 */
async function verifyMembersInParallel(
  exp: VerifyExpectation, opts: { signal?: AbortSignal; onProgress?: (done: number) => void },
): Promise<VerifyResult | null> {
  const fh = await open(exp.path, 'r');
  const fileHash = streamSha256();
  const headerHash = createHash('sha256');
  const memoryHash = streamSha256();
  const inflight: Promise<Buffer>[] = [];
  let seen = 0;
  let failed = false;
  const consume = async (out: Buffer) => {
    const headLeft = Math.max(0, exp.headerLength - seen);
    if (headLeft > 0) headerHash.update(out.subarray(0, headLeft));
    if (out.length > headLeft) await memoryHash.update(out.subarray(headLeft));
    seen += out.length;
    opts.onProgress?.(seen);
  };
  const dispatch = async (piece: Buffer) => {
    const p = gunzipAsync(piece);
    p.catch(() => undefined); // awaited in order below
    inflight.push(p);
    while (inflight.length >= INFLIGHT) await consume(await inflight.shift()!);
  };
  try {
    let pending = Buffer.alloc(0);
    for (let pos = 0; ; ) {
      opts.signal?.throwIfAborted();
      const buf = Buffer.allocUnsafe(READ_SIZE);
      const { bytesRead } = await fh.read(buf, 0, READ_SIZE, pos);
      if (bytesRead === 0) break;
      const got = buf.subarray(0, bytesRead);
      pos += bytesRead;
      await fileHash.update(got);
      pending = pending.length ? Buffer.concat([pending, got]) : got;
      const cut = pending.lastIndexOf(MEMBER_START);
      if (cut > 0) {
        await dispatch(pending.subarray(0, cut));
        pending = pending.subarray(cut);
      }
    }
    if (pending.length) await dispatch(pending);
    while (inflight.length) await consume(await inflight.shift()!);
    return judge(exp, {
      fileSha256: await fileHash.digest(), headerSha256: headerHash.digest('hex'), memorySha256: await memoryHash.digest(),
      coreLength: seen, fileSha256Checked: true,
    });
  } catch (e) {
    if (opts.signal?.aborted) throw e;
    failed = true;
    return null; // a false cut, or a damaged archive: the sequential pass says which, with its reason
  } finally {
    await fh.close();
    await Promise.allSettled(inflight);
    if (failed || opts.signal?.aborted) {
      await fileHash.dispose();
      await memoryHash.dispose();
    }
  }
}

async function verifySequentially(
  exp: VerifyExpectation, opts: { signal?: AbortSignal; onProgress?: (done: number) => void },
): Promise<VerifyResult> {
  const fileHash = createHash('sha256');
  const headerHash = createHash('sha256');
  const memoryHash = streamSha256(); // overlaps hashing with reading (and gunzip)
  const raw = createReadStream(exp.path, { highWaterMark: 4 << 20, signal: opts.signal });
  const checkFile = exp.checkFileHash ?? true;
  if (checkFile) raw.on('data', (c) => fileHash.update(c as Buffer));
  const data: Readable = exp.compressed ? raw.pipe(createGunzip({ chunkSize: 1 << 20 })) : raw;
  if (exp.compressed) raw.on('error', (e) => data.destroy(e));
  let seen = 0;
  try {
    for await (const chunk of data as AsyncIterable<Buffer>) {
      const headLeft = Math.max(0, exp.headerLength - seen);
      if (headLeft > 0) headerHash.update(chunk.subarray(0, headLeft));
      if (chunk.length > headLeft) await memoryHash.update(chunk.subarray(headLeft));
      seen += chunk.length;
      opts.onProgress?.(seen);
    }
  } catch (e) {
    await memoryHash.dispose();
    throw e;
  }
  const memorySha256 = await memoryHash.digest();
  return judge(exp, {
    fileSha256: checkFile ? fileHash.digest('hex') : exp.fileSha256,
    headerSha256: headerHash.digest('hex'),
    memorySha256,
    coreLength: seen,
    fileSha256Checked: checkFile,
  });
}
