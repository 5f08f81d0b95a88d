// Verify-before-invalidate: read the written core back from disk (through gunzip for -z), and
// check that its header is the one written and its memory data hashes to what was read from the
// device. Only a core that passes may be the reason to destroy the dump.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
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
  const result = {
    fileSha256: checkFile ? fileHash.digest('hex') : exp.fileSha256,
    headerSha256: headerHash.digest('hex'),
    memorySha256,
    coreLength: seen,
    fileSha256Checked: checkFile,
  };
  const expectedLength = exp.headerLength + exp.memoryLength;
  const reason =
    seen !== expectedLength ? `core holds ${seen} bytes, expected ${expectedLength}`
    : result.headerSha256 !== exp.headerSha256 ? 'core header differs from the header written'
    : result.memorySha256 !== exp.memorySha256 ? `memory data SHA-256 ${result.memorySha256} differs from the dump's ${exp.memorySha256}`
    : result.fileSha256 !== exp.fileSha256 ? 'file SHA-256 differs from the bytes written'
    : null;
  return { ok: reason === null, reason, ...result };
}
