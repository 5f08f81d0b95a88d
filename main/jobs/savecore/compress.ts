// Parallel gzip for -z: the output is cut into independent chunks, each compressed on a worker
// thread to a complete gzip member, and the members are written in order. A multi-member gzip
// file is what gzip(1) and node:zlib read as one stream (RFC 1952 2.2), so the result
// decompresses to exactly the bytes savecore would have written uncompressed.
//
// Each member is proven on its worker right after it is deflated, while its chunk is still in
// cache: the member is inflated (gunzip: header, deflate data, CRC32 and ISIZE checked) and the
// result compared byte for byte with the chunk. The writer also checks each member's trailer CRC32
// and ISIZE against the bytes it was given, as given (before they were copied into the chunk), and
// counts the members it wrote in order: its MemberProof is what verify.ts relies on for -z.

import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { crc32 } from 'node:zlib';
import { evalWorker } from './eval-worker.ts';

// Inline CommonJS, run by evalWorker.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const zlib = require('node:zlib');
parentPort.on('message', ({ id, input, level, tamper }) => {
  try {
    let out = zlib.gzipSync(input, { level });
    // tests only: a member that is not what deflate made of this chunk
    if (tamper === 'flip') out[out.length >> 1] ^= 0x10;
    if (tamper === 'swap') out = zlib.gzipSync(Buffer.concat([input, Buffer.of(1)]), { level });
    // the proof: the member inflates to exactly the chunk (one output buffer: no 16 KiB pieces to join)
    let mismatch = null;
    try {
      const back = zlib.gunzipSync(out, { chunkSize: Math.max(64, input.byteLength + 64) });
      if (!back.equals(input)) mismatch = 'inflates to ' + back.length + ' bytes that differ from its ' + input.byteLength + ' input bytes';
    } catch (e) {
      mismatch = 'does not inflate: ' + String(e && e.message || e);
    }
    // the input's memory goes back (transferred, not copied) to be filled again
    parentPort.postMessage({ id, output: out, input, mismatch }, [input.buffer]);
  } catch (e) {
    parentPort.postMessage({ id, error: String(e && e.message || e) });
  }
});
`;

/** Returned input buffers kept for reuse (beyond this they are left to the collector). */
const SPARE_LIMIT = 8;

/** A member whose inflate-and-compare check on its worker failed. */
export class MemberCheckFailure extends Error {
  override name = 'MemberCheckFailure';
}

export interface PoolHooks {
  /**
   * Tests: damage the member of the n-th compress() call (0-based) before it is checked: 'flip' one
   * bit in its deflate data, or 'swap' it for a well-formed member of other bytes.
   */
  tamperMember?(n: number): Tamper;
}

export type Tamper = 'flip' | 'swap' | undefined;

interface Pending {
  resolve(out: Uint8Array): void;
  reject(e: Error): void;
}

/** A fixed set of compression threads; each job is one gzip member. */
export class GzipPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: { id: number; input: Uint8Array; tamper: Tamper }[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failure: Error | null = null;
  /**
   * Input buffers the workers have handed back, for the next chunks: a fresh 4 MiB buffer per
   * chunk costs a zero fill and a page fault per 4 KiB on the main thread, which competes with
   * the workers on two cores (the profile of a -Z 6 export showed it at ~5% of the wall time).
   */
  private readonly spare: Uint8Array[] = [];
  /** Chunk size → the gzip member of that many zero bytes at this level. */
  private readonly zeroMembers = new Map<number, Promise<Uint8Array>>();

  constructor(
    private readonly level: number,
    size = availableParallelism(),
    private readonly hooks: PoolHooks = {},
  ) {
    for (let i = 0; i < Math.max(1, size); i++) {
      const w = evalWorker(WORKER_SOURCE);
      w.on('message', (msg: WorkerReply) => this.onDone(w, msg));
      w.on('error', (e) => this.failAll(e));
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  /**
   * The member for a chunk of zeros (free memory): compressed once per size, on a worker like any
   * other chunk (so checked there once, like any member), then the same bytes for every later zero
   * chunk of that size — exactly what compressing it again would give, so the archive is the same
   * file, only made faster.
   */
  zeroMember(input: Uint8Array): Promise<Uint8Array> {
    const size = input.byteLength;
    let member = this.zeroMembers.get(size);
    if (!member) {
      member = this.compress(new Uint8Array(size));
      member.catch(() => this.zeroMembers.delete(size));
      this.zeroMembers.set(size, member);
    }
    if (input.byteOffset === 0 && input.byteLength === input.buffer.byteLength && this.spare.length < SPARE_LIMIT) {
      this.spare.push(input); // not sent anywhere: straight back to be filled again
    }
    return member;
  }

  /** A buffer of exactly `size` bytes to fill and pass to compress(): a returned input, or a new one. Its contents are stale. */
  buffer(size: number): Uint8Array {
    const i = this.spare.findIndex((b) => b.byteLength === size);
    return i >= 0 ? this.spare.splice(i, 1)[0] : new Uint8Array(size);
  }

  /**
   * Compress one chunk to a gzip member, proven on the worker to inflate to exactly the chunk (else
   * MemberCheckFailure). The chunk's buffer is transferred (do not reuse it).
   */
  compress(input: Uint8Array): Promise<Uint8Array> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const p = new Promise<Uint8Array>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.queue.push({ id, input, tamper: this.hooks.tamperMember?.(id) });
    this.pump();
    return p;
  }

  async close(): Promise<void> {
    this.failAll(new Error('compression cancelled'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private pump(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const w = this.idle.pop()!;
      const job = this.queue.shift()!;
      const owned = job.input.byteOffset === 0 && job.input.byteLength === job.input.buffer.byteLength;
      const input = owned ? job.input : job.input.slice();
      w.postMessage({ id: job.id, input, level: this.level, tamper: job.tamper }, [input.buffer as ArrayBuffer]);
    }
  }

  private onDone(w: Worker, msg: WorkerReply): void {
    const p = this.pending.get(msg.id);
    this.pending.delete(msg.id);
    this.idle.push(w);
    if (msg.input && this.spare.length < SPARE_LIMIT) this.spare.push(new Uint8Array(msg.input.buffer, msg.input.byteOffset, msg.input.byteLength));
    if (p) {
      if (msg.error !== undefined) p.reject(new Error(`gzip: ${msg.error}`));
      else if (msg.mismatch) p.reject(new MemberCheckFailure(msg.mismatch));
      else p.resolve(new Uint8Array(msg.output!.buffer, msg.output!.byteOffset, msg.output!.byteLength));
    }
    this.pump();
  }

  private failAll(e: Error): void {
    this.failure ??= e;
    this.queue.length = 0;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}

interface WorkerReply {
  id: number;
  output?: Uint8Array;
  input?: Uint8Array;
  mismatch?: string | null;
  error?: string;
}

export interface ByteWriter {
  write(chunk: Uint8Array): Promise<void>;
}

/** What a ParallelGzipWriter proved about the members it wrote (verify.ts relies on it for -z). */
export interface MemberProof {
  /** Members handed to the output, in order. */
  members: number;
  /** Uncompressed bytes they hold (the sum of their chunks). */
  length: number;
  /**
   * null when every member passed: inflated on its worker to exactly its chunk, and its trailer's
   * CRC32 and ISIZE equal to those of the bytes write() was given for that chunk. Else the first
   * failure, with the member's place.
   */
  failure: string | null;
}

/** What the writer remembers of a chunk until its member comes back. */
interface Submitted {
  member: Promise<Uint8Array>;
  /** CRC32 of the chunk's bytes as given to write(). */
  crc: number;
  length: number;
  /** Offset of the chunk in the uncompressed stream. */
  at: number;
}

export interface GzipWriterOptions {
  /** Chunks compressed at once; memory stays bounded while both cores compress and the file is written. */
  depth?: number;
  /**
   * Every chunk, in order, before it is compressed (its buffer is then transferred: whatever this
   * keeps must be copied by the time the returned promise settles). Hashes taken here are hashes of
   * the bytes the members are proven to inflate to.
   */
  onChunk?(chunk: Uint8Array): Promise<void> | void;
}

/**
 * A sink that gathers bytes into chunks of `chunkSize`, compresses them in parallel and writes
 * the members in order to `out`. A member that fails its check on the worker is left out of the
 * file, one whose trailer does not match the bytes given is written; either is recorded in
 * proof(), and verification then refuses the archive with the reason.
 */
export class ParallelGzipWriter implements ByteWriter {
  private buf: Uint8Array;
  private fill = 0;
  private crc = 0;
  private readonly inflight: Submitted[] = [];
  private writing: Promise<void> = Promise.resolve();
  private readonly depth: number;
  private readonly onChunk: GzipWriterOptions['onChunk'];
  private readonly ledger: MemberProof = { members: 0, length: 0, failure: null };
  /** Uncompressed bytes accepted. */
  bytesIn = 0;
  /** Uncompressed bytes handed to the pool. */
  private submitted = 0;

  constructor(
    private readonly pool: GzipPool,
    private readonly out: ByteWriter,
    private readonly chunkSize: number,
    opts: GzipWriterOptions = {},
  ) {
    this.depth = opts.depth ?? pool.size * 2 + 1;
    this.onChunk = opts.onChunk;
    this.buf = pool.buffer(chunkSize);
  }

  async write(chunk: Uint8Array): Promise<void> {
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(chunk.length - off, this.chunkSize - this.fill);
      const piece = chunk.subarray(off, off + n);
      this.crc = crc32(piece, this.crc);
      this.buf.set(piece, this.fill);
      this.fill += n;
      off += n;
      if (this.fill === this.chunkSize) await this.submit();
    }
    this.bytesIn += chunk.length;
  }

  /** Compress what is left and wait until every member is written. */
  async end(): Promise<void> {
    if (this.fill > 0) await this.submit();
    while (this.inflight.length > 0) await this.drainOne();
    await this.writing;
  }

  /** The members written so far and whether each proved to be its chunk. Complete after end(). */
  proof(): MemberProof {
    return { ...this.ledger };
  }

  private async submit(): Promise<void> {
    // a recycled buffer holds stale bytes past fill: only a full one goes whole
    const input = this.fill === this.chunkSize ? this.buf : this.buf.slice(0, this.fill);
    const sub = { crc: this.crc, length: this.fill, at: this.submitted };
    this.submitted += this.fill;
    this.buf = this.pool.buffer(this.chunkSize);
    this.fill = 0;
    this.crc = 0;
    await this.onChunk?.(input);
    const member = isAllZero(input) ? this.pool.zeroMember(input) : this.pool.compress(input);
    member.catch(() => undefined); // observed in drainOne; avoid an unhandled rejection meanwhile
    this.inflight.push({ ...sub, member });
    while (this.inflight.length >= this.depth) await this.drainOne();
  }

  /** Hand the oldest member to the file writer; the write overlaps further compression. */
  private async drainOne(): Promise<void> {
    const sub = this.inflight.shift()!;
    const index = this.ledger.members;
    let member: Uint8Array;
    try {
      member = await sub.member;
    } catch (e) {
      if (!(e instanceof MemberCheckFailure)) throw e;
      this.ledger.failure ??= `gzip member ${index} (uncompressed bytes ${sub.at}-${sub.at + sub.length}) ${e.message}`;
      return;
    }
    const trailer = this.ledger.failure === null ? trailerMismatch(member, sub) : null;
    if (trailer) this.ledger.failure = `gzip member ${index} (uncompressed bytes ${sub.at}-${sub.at + sub.length}): ${trailer}`;
    this.ledger.members++;
    this.ledger.length += sub.length;
    await this.writing;
    this.writing = this.out.write(member);
    this.writing.catch(() => undefined);
  }
}

/** Why a member's trailer (CRC32, ISIZE: RFC 1952 2.3.1) does not describe the chunk's bytes, or null. */
function trailerMismatch(member: Uint8Array, chunk: { crc: number; length: number }): string | null {
  if (member.length < 18) return `is ${member.length} bytes, shorter than a gzip member`;
  const view = new DataView(member.buffer, member.byteOffset + member.length - 8, 8);
  const crc = view.getUint32(0, true);
  const isize = view.getUint32(4, true);
  if (isize !== chunk.length % 2 ** 32) return `trailer ISIZE ${isize} differs from the chunk's ${chunk.length} bytes`;
  if (crc !== chunk.crc) return `trailer CRC32 ${hex8(crc)} differs from the CRC32 ${hex8(chunk.crc)} of the bytes given`;
  return null;
}

const hex8 = (n: number) => n.toString(16).padStart(8, '0');

/** Whether every byte is zero (8 bytes at a time where the view allows). */
export function isAllZero(b: Uint8Array): boolean {
  let i = 0;
  if (b.byteOffset % 8 === 0) {
    const words = new BigUint64Array(b.buffer, b.byteOffset, b.byteLength >>> 3);
    for (let w = 0; w < words.length; w++) if (words[w] !== 0n) return false;
    i = words.length * 8;
  }
  for (; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}
