// Verify-before-invalidate: read the written core back from disk (through gunzip for -z), and
// check that its header is the one written and its memory data hashes to what was read from the
// device. Only a core that passes may be the reason to destroy the dump.
//
// A -z core written by compress.ts comes with the writer's MemberProof: each member was inflated on
// its worker right after deflate and equals its chunk byte for byte, and the header and memory
// hashes were taken over those very chunks. Then the read-back only has to show that the file on
// disk is exactly those members in order: its bytes, re-read after the fsync, hash to what was
// written (method 'member-proof'). Without a proof the file is read back and inflated
// ('read-back').

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { sharedBytes, streamSha256, ThreadedSha256 } from './hash.ts';
import type { FileHandle } from 'node:fs/promises';
import type { MemberProof } from './compress.ts';

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
  /**
   * -z: what the gzip writer proved of its members, with the SHA-256 of the header and memory bytes
   * those members were proven to inflate to (hashed over the chunks themselves).
   */
  members?: MemberProof & { headerSha256: string; memorySha256: string };
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
  /**
   * How headerSha256/memorySha256 (the SHA-256 of what the file decompresses to) were established:
   * 'read-back' — by reading the file back (and inflating it, for -z); 'member-proof' — by the
   * writer, over the chunks each member was inflated and compared to in memory, the file then read
   * back and hashed equal to those members as written (fileSha256Checked).
   */
  method: 'read-back' | 'member-proof';
  /** 'member-proof': how many gzip members were proven. */
  members?: number;
}

export async function verifyCore(
  exp: VerifyExpectation, opts: { signal?: AbortSignal; onProgress?: (done: number) => void } = {},
): Promise<VerifyResult> {
  if (exp.compressed && exp.members) return verifyByMembers(exp, exp.members, opts);
  if (exp.compressed) {
    const parallel = await verifyMembersInParallel(exp, opts);
    if (parallel) return parallel;
  }
  return verifySequentially(exp, opts);
}

/** The same checks over what has been decompressed: header, memory and file hashes, length. */
function judge(exp: VerifyExpectation, result: Omit<VerifyResult, 'ok' | 'reason'>, failure: string | null = null): VerifyResult {
  const expectedLength = exp.headerLength + exp.memoryLength;
  const reason =
    failure !== null ? failure
    : result.coreLength !== expectedLength ? `core holds ${result.coreLength} bytes, expected ${expectedLength}`
    : result.headerSha256 !== exp.headerSha256 ? 'core header differs from the header written'
    : result.memorySha256 !== exp.memorySha256 ? `memory data SHA-256 ${result.memorySha256} differs from the dump's ${exp.memorySha256}`
    : result.fileSha256 !== exp.fileSha256 ? 'file SHA-256 differs from the bytes written'
    : null;
  return { ok: reason === null, reason, ...result };
}

/**
 * The -z read-back with a MemberProof: the file is re-read after the fsync and hashed; equal to the
 * SHA-256 taken as the members were written, it is exactly those members, in order, each proven to
 * inflate to its chunk — so the archive decompresses to the header and memory hashed over the chunks,
 * and gunzip accepts it (every member's header, CRC32 and ISIZE were checked by the inflate).
 */
async function verifyByMembers(
  exp: VerifyExpectation, proof: NonNullable<VerifyExpectation['members']>,
  opts: { signal?: AbortSignal; onProgress?: (done: number) => void },
): Promise<VerifyResult> {
  const fh = await open(exp.path, 'r');
  const fileHash = createHash('sha256');
  let next: ReturnType<typeof fh.read> | null = null;
  try {
    const size = (await fh.stat()).size;
    const bufs = [Buffer.allocUnsafe(READ_SIZE), Buffer.allocUnsafe(READ_SIZE)];
    let pos = 0;
    next = fh.read(bufs[0], 0, READ_SIZE, 0);
    for (let i = 0; ; i++) {
      opts.signal?.throwIfAborted();
      const { bytesRead } = await next;
      if (bytesRead === 0) break;
      pos += bytesRead;
      next = fh.read(bufs[(i + 1) & 1], 0, READ_SIZE, pos); // the next read runs while this one is hashed
      fileHash.update(bufs[i & 1].subarray(0, bytesRead));
      if (size > 0) opts.onProgress?.(Math.floor(proof.length * Math.min(1, pos / size)));
    }
    return judge(exp, {
      fileSha256: fileHash.digest('hex'), headerSha256: proof.headerSha256, memorySha256: proof.memorySha256,
      coreLength: proof.length, fileSha256Checked: true, method: 'member-proof', members: proof.members,
    }, proof.failure);
  } finally {
    await next?.catch(() => undefined); // no read may be outstanding when the handle closes
    await fh.close();
  }
}

/**
 * Inflate one piece (whole members) on the thread pool; its output as the chunks inflate produced,
 * 1 MiB each (the one-shot gunzip() would call back every 16 KiB and then copy them all into one
 * buffer). A truncated or damaged member is an error, as with gunzip().
 */
function inflatePiece(piece: Buffer): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const z = createGunzip({ chunkSize: 1 << 20 });
    const out: Buffer[] = [];
    z.on('data', (c: Buffer) => out.push(c));
    z.on('end', () => resolve(out));
    z.on('error', reject);
    z.end(piece);
  });
}
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
  const inflight: Promise<Buffer[]>[] = [];
  let seen = 0;
  let failed = false;
  const consume = async (chunks: Buffer[]) => {
    for (const out of chunks) {
      const headLeft = Math.max(0, exp.headerLength - seen);
      if (headLeft > 0) headerHash.update(out.subarray(0, headLeft));
      if (out.length > headLeft) await memoryHash.update(out.subarray(headLeft));
      seen += out.length;
    }
    opts.onProgress?.(seen);
  };
  const dispatch = async (piece: Buffer) => {
    const p = inflatePiece(piece);
    p.catch(() => undefined); // awaited in order below
    inflight.push(p);
    while (inflight.length >= INFLIGHT) await consume(await inflight.shift()!);
  };
  try {
    let pending = Buffer.alloc(0);
    for (let pos = 0; ; ) {
      opts.signal?.throwIfAborted();
      // the undispatched tail (less than a member) goes first, the next read right after it:
      // only the tail is copied, never the whole read
      const buf = Buffer.allocUnsafe(pending.length + READ_SIZE);
      pending.copy(buf, 0);
      const { bytesRead } = await fh.read(buf, pending.length, READ_SIZE, pos);
      if (bytesRead === 0) break;
      const got = buf.subarray(pending.length, pending.length + bytesRead);
      pos += bytesRead;
      await fileHash.update(got);
      pending = buf.subarray(0, pending.length + bytesRead);
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
      coreLength: seen, fileSha256Checked: true, method: 'read-back',
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
    method: 'read-back',
  });
}

/** Reads of the pipelined read-back, and how many buffers it cycles through. */
const READ_BACK_SIZE = 4 << 20;
const READ_BACK_BUFFERS = 4;

/**
 * The read-back of a plain core, pipelined with writing it: save.ts fsyncs (fdatasync) what has been
 * written so far, then through(end) re-reads it while the next range is written; finish(), after the
 * file's final fsync, re-reads the rest to the end of the file and judges it like verifyCore. Every
 * byte of the file is re-read after it was fsynced. The memory part is hashed on a thread of its own
 * (the other core hashes the bytes as they are written), in shared buffers reused once hashed.
 */
export class PipelinedReadBack {
  private pos = 0;
  private readonly headerHash = createHash('sha256');
  private readonly memoryHash = new ThreadedSha256();
  private readonly bufs = Array.from({ length: READ_BACK_BUFFERS }, () => sharedBytes(READ_BACK_SIZE));
  /** Per buffer: the hasher's chunk count once its last chunk was given (0: nothing to wait for). */
  private readonly posted = new Array<number>(READ_BACK_BUFFERS).fill(0);
  private next = 0;
  private closed = false;

  private constructor(private readonly fh: FileHandle, private readonly headerLength: number) {}

  static async open(path: string, headerLength: number): Promise<PipelinedReadBack> {
    return new PipelinedReadBack(await open(path, 'r'), headerLength);
  }

  /** Bytes re-read so far. */
  get done(): number {
    return this.pos;
  }

  /** Re-read and hash the file up to `end` (or its end of file, when `end` is null). */
  async through(end: number | null, signal?: AbortSignal): Promise<void> {
    while (end === null || this.pos < end) {
      signal?.throwIfAborted();
      const slot = this.next;
      this.next = (slot + 1) % this.bufs.length;
      await this.memoryHash.settled(this.posted[slot]); // its last chunk hashed before it is refilled
      const buf = this.bufs[slot];
      const want = end === null ? READ_BACK_SIZE : Math.min(READ_BACK_SIZE, end - this.pos);
      const { bytesRead } = await this.fh.read(buf, 0, want, this.pos);
      if (bytesRead === 0) break;
      const got = buf.subarray(0, bytesRead);
      const headLeft = Math.max(0, Math.min(bytesRead, this.headerLength - this.pos));
      if (headLeft > 0) this.headerHash.update(got.subarray(0, headLeft));
      if (bytesRead > headLeft) {
        const hashed = this.memoryHash.update(got.subarray(headLeft));
        this.posted[slot] = this.memoryHash.count;
        await hashed;
      }
      this.pos += bytesRead;
    }
  }

  /** The rest of the file, then the same judgement as verifyCore's. */
  async finish(exp: VerifyExpectation, opts: { signal?: AbortSignal; onProgress?: (done: number) => void } = {}): Promise<VerifyResult> {
    await this.through(null, opts.signal);
    opts.onProgress?.(this.pos);
    const memorySha256 = await this.memoryHash.digest();
    await this.close();
    return judge(exp, {
      fileSha256: exp.fileSha256, headerSha256: this.headerHash.digest('hex'), memorySha256, coreLength: this.pos,
      fileSha256Checked: false, method: 'read-back',
    });
  }

  async dispose(): Promise<void> {
    await this.memoryHash.dispose();
    await this.close();
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close().catch(() => undefined);
  }
}
