// Random access into gzip files (RFC 1952) without re-decompressing from the start for every
// read: one streaming pass (buildGzipIndex) records checkpoints every few MiB of output, each
// holding the compressed bit offset of a DEFLATE block boundary and the 32 KiB of history needed
// to resume there (the zlib "zran" technique). GzipSource then inflates forward from the
// nearest checkpoint only as far as a read needs.

import { IoError, errnoOf } from '../errno.ts';
import { preadFully, type DumpSource } from '../source.ts';
import {
  BLOCK_END,
  InflateError,
  Inflater,
  NEED_INPUT,
  OUTPUT_FULL,
  STREAM_END,
} from './inflate.ts';

// --- CRC-32 (slice-by-8, since every output byte passes through it while indexing) ----------

const CRC_TABLES = makeCrcTables();

function makeCrcTables(): Int32Array {
  const t = new Int32Array(256 * 8);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) t[k * 256 + n] = (t[(k - 1) * 256 + n] >>> 8) ^ t[t[(k - 1) * 256 + n] & 0xff];
  }
  return t;
}

/** Update a CRC-32 (gzip/zlib polynomial) with `data`; start from 0. Returns an unsigned value. */
export function crc32(crc: number, data: Uint8Array): number {
  const t = CRC_TABLES;
  let c = ~crc;
  let i = 0;
  const n = data.length;
  const end8 = n - (n & 7);
  for (; i < end8; i += 8) {
    const lo = c ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24));
    c =
      t[1792 + (lo & 0xff)] ^
      t[1536 + ((lo >>> 8) & 0xff)] ^
      t[1280 + ((lo >>> 16) & 0xff)] ^
      t[1024 + (lo >>> 24)] ^
      t[768 + data[i + 4]] ^
      t[512 + data[i + 5]] ^
      t[256 + data[i + 6]] ^
      t[data[i + 7]];
  }
  for (; i < n; i++) c = t[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

// --- The index ------------------------------------------------------------------------------

/** Where decoding can resume. */
export interface GzipCheckpoint {
  /** Uncompressed offset (across all members). */
  readonly out: number;
  /** Compressed bit offset: of a DEFLATE block header, or (memberStart) of a gzip header. */
  readonly inBit: number;
  /** True when inBit is the byte offset * 8 of a gzip member header (no history needed). */
  readonly memberStart: boolean;
  /** The last <= 32 KiB of the member's output before `out` (empty at a member start). */
  readonly window: Uint8Array;
}

export interface GzipIndex {
  readonly compressedSize: number;
  /** The true uncompressed size (decoded, not ISIZE, which is only the size mod 2^32). */
  readonly size: number;
  readonly members: number;
  readonly spanBytes: number;
  /** Sorted by `out`; the first is always { out: 0, inBit: 0, memberStart: true }. */
  readonly checkpoints: readonly GzipCheckpoint[];
  /** Non-fatal oddities, e.g. trailing garbage that gunzip would also ignore. */
  readonly warnings: readonly string[];
}

/** The part of AbortSignal we use (core/ is compiled without DOM or Node types). */
export interface AbortSignalLike {
  readonly aborted: boolean;
}

export interface GzipIndexOptions {
  /** Record a checkpoint every ~spanBytes of uncompressed output (default 4 MiB). */
  spanBytes?: number;
  /** Called after each compressed chunk is read: (compressed bytes read, compressed size). */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignalLike;
}

export const DEFAULT_SPAN_BYTES = 4 << 20;
const READ_CHUNK = 1 << 20;

/** gzip magic 1f 8b at offset 0. */
export async function isGzip(src: DumpSource): Promise<boolean> {
  const magic = new Uint8Array(2);
  try {
    return (await preadFully(src, magic, 0)) === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
  } catch (e) {
    throw asIoError(src, e);
  }
}

/** Any failure as an IoError (sources' own errno kept; anything unexpected is EIO). */
function asIoError(src: DumpSource, e: unknown): IoError {
  if (e instanceof IoError) return e;
  if (e instanceof InflateError) return new IoError('EIO', `${src.name}: corrupt gzip data: ${e.message}`);
  const message = e instanceof Error ? e.message : String(e);
  return new IoError(errnoOf(e), `${src.name}: ${message}`);
}

// --- Streaming walker over members ----------------------------------------------------------

const FHCRC = 0x02;
const FEXTRA = 0x04;
const FNAME = 0x08;
const FCOMMENT = 0x10;
const FRESERVED = 0xe0;

interface WalkerHooks {
  /** Verify CRC-32 and ISIZE of members decoded from their start. */
  verify: boolean;
  onBlockEnd?: (walker: GzipWalker) => void;
  onMemberStart?: (walker: GzipWalker, headerOffset: number) => void;
  onRead?: (compressedBytesRead: number) => void;
}

/** Decodes a gzip file forward from a checkpoint, handing out output chunks in order. */
class GzipWalker {
  private readonly inflater = new Inflater();
  private readPos = 0;
  private srcEof = false;
  /** Uncompressed offset of the next chunk next() returns. */
  emitted = 0;
  private memberOut = 0;
  private memberCrc = 0;
  private checkingMember = false;
  private finished = false;
  readonly warnings: string[] = [];

  constructor(
    private readonly src: DumpSource,
    private readonly hooks: WalkerHooks,
  ) {}

  /** Uncompressed offset the inflater has reached (including output not yet handed out). */
  get produced(): number {
    return this.emitted + this.inflater.pendingOutput();
  }

  bitPosition(): number {
    return this.inflater.bitPosition();
  }

  window(): Uint8Array {
    return this.inflater.window();
  }

  async startAt(cp: GzipCheckpoint): Promise<void> {
    this.emitted = cp.out;
    this.seekInput(Math.floor(cp.inBit / 8));
    if (cp.memberStart) {
      await this.readMemberHeader(true);
      return;
    }
    await this.fill();
    this.inflater.skipBits(cp.inBit % 8);
    this.inflater.startStream(cp.window);
    this.checkingMember = false; // started mid-member: the CRC cannot be checked
  }

  /** The next chunk of output (a view valid until the next call), or null at the end. */
  async next(): Promise<Uint8Array | null> {
    while (!this.finished) {
      const status = this.runInflater();
      if (status === NEED_INPUT) await this.fill();
      else if (status === BLOCK_END) this.hooks.onBlockEnd?.(this);
      else if (status === OUTPUT_FULL) return this.take();
      else {
        const chunk = this.take();
        await this.finishMember();
        return chunk;
      }
    }
    return null;
  }

  private runInflater(): number {
    try {
      return this.inflater.run();
    } catch (e) {
      throw asIoError(this.src, e);
    }
  }

  private take(): Uint8Array {
    const chunk = this.inflater.takeOutput();
    if (this.checkingMember) this.memberCrc = crc32(this.memberCrc, chunk);
    this.memberOut += chunk.length;
    this.emitted += chunk.length;
    return chunk;
  }

  private corrupt(what: string, offset: number): IoError {
    return new IoError('EIO', `${this.src.name}: corrupt gzip data: ${what} at compressed offset ${offset}`);
  }

  private seekInput(offset: number): void {
    this.readPos = offset;
    this.srcEof = false;
    this.inflater.resetInput(offset);
  }

  private async fill(): Promise<void> {
    const space = this.inflater.inputSpace(READ_CHUNK);
    let n = 0;
    if (!this.srcEof) {
      try {
        n = await preadFully(this.src, space, this.readPos);
      } catch (e) {
        throw asIoError(this.src, e);
      }
    }
    this.readPos += n;
    const knownEnd = this.src.size > 0 && this.readPos >= this.src.size;
    this.srcEof = n < READ_CHUNK || knownEnd;
    this.inflater.inputWritten(n, this.srcEof);
    this.hooks.onRead?.(this.readPos);
  }

  /** Make at least n unread bytes available if the file has them; returns how many there are. */
  private async ensure(n: number): Promise<number> {
    while (this.inflater.bytesAvailable() < n && !this.srcEof) await this.fill();
    return this.inflater.bytesAvailable();
  }

  /** Read n header bytes (n small), folding them into the header CRC. */
  private async headerBytes(n: number, what: string, headerCrc: { crc: number }): Promise<Uint8Array> {
    const offset = this.inflater.inputOffset();
    if ((await this.ensure(n)) < n) throw this.corrupt(`truncated gzip header (${what})`, offset);
    const bytes = this.inflater.peekBytes(n).slice();
    this.inflater.consumeBytes(n);
    headerCrc.crc = crc32(headerCrc.crc, bytes);
    return bytes;
  }

  private async skipHeaderBytes(n: number, what: string, headerCrc: { crc: number }): Promise<void> {
    while (n > 0) {
      const offset = this.inflater.inputOffset();
      const avail = await this.ensure(1);
      if (avail === 0) throw this.corrupt(`truncated gzip header (${what})`, offset);
      const take = Math.min(n, avail);
      headerCrc.crc = crc32(headerCrc.crc, this.inflater.peekBytes(take));
      this.inflater.consumeBytes(take);
      n -= take;
    }
  }

  private async skipZeroTerminated(what: string, headerCrc: { crc: number }): Promise<void> {
    for (;;) {
      const offset = this.inflater.inputOffset();
      const avail = await this.ensure(1);
      if (avail === 0) throw this.corrupt(`truncated gzip header (${what})`, offset);
      const bytes = this.inflater.peekBytes(avail);
      const nul = bytes.indexOf(0);
      const take = nul < 0 ? avail : nul + 1;
      headerCrc.crc = crc32(headerCrc.crc, bytes.subarray(0, take));
      this.inflater.consumeBytes(take);
      if (nul >= 0) return;
    }
  }

  /** Parse a gzip member header (RFC 1952 2.3) and start inflating its DEFLATE stream. */
  private async readMemberHeader(first: boolean): Promise<void> {
    const start = this.inflater.inputOffset();
    if (first && (await this.ensure(1)) === 0) throw this.corrupt('empty file, not gzip', start);
    const headerCrc = { crc: 0 };
    const fixed = await this.headerBytes(10, 'fixed part', headerCrc);
    if (fixed[0] !== 0x1f || fixed[1] !== 0x8b) throw this.corrupt('bad gzip magic (not a gzip file)', start);
    if (fixed[2] !== 8) throw this.corrupt(`unknown compression method ${fixed[2]}`, start + 2);
    const flags = fixed[3];
    if (flags & FRESERVED) throw this.corrupt(`reserved gzip header flags 0x${flags.toString(16)}`, start + 3);
    if (flags & FEXTRA) {
      const xlen = await this.headerBytes(2, 'FEXTRA length', headerCrc);
      await this.skipHeaderBytes(xlen[0] | (xlen[1] << 8), 'FEXTRA', headerCrc);
    }
    if (flags & FNAME) await this.skipZeroTerminated('FNAME', headerCrc);
    if (flags & FCOMMENT) await this.skipZeroTerminated('FCOMMENT', headerCrc);
    if (flags & FHCRC) {
      const expected = headerCrc.crc & 0xffff;
      const at = this.inflater.inputOffset();
      const stored = await this.headerBytes(2, 'FHCRC', headerCrc);
      if ((stored[0] | (stored[1] << 8)) !== expected) throw this.corrupt('gzip header CRC mismatch', at);
    }
    this.hooks.onMemberStart?.(this, start);
    this.memberOut = 0;
    this.memberCrc = 0;
    this.checkingMember = this.hooks.verify;
    this.inflater.startStream();
  }

  /** Check the trailer (CRC-32, ISIZE), then move on to the next member or finish. */
  private async finishMember(): Promise<void> {
    this.inflater.releaseBits();
    const at = this.inflater.inputOffset();
    if ((await this.ensure(8)) < 8) throw this.corrupt('truncated gzip trailer', at);
    const t = this.inflater.peekBytes(8);
    const storedCrc = (t[0] | (t[1] << 8) | (t[2] << 16) | (t[3] << 24)) >>> 0;
    const storedSize = (t[4] | (t[5] << 8) | (t[6] << 16) | (t[7] << 24)) >>> 0;
    this.inflater.consumeBytes(8);
    if (this.checkingMember) {
      if (storedCrc !== this.memberCrc) {
        throw this.corrupt(`CRC-32 mismatch (trailer ${hex32(storedCrc)}, data ${hex32(this.memberCrc)})`, at);
      }
      const actualSize = this.memberOut % 2 ** 32;
      if (storedSize !== actualSize) {
        throw this.corrupt(`ISIZE mismatch (trailer ${storedSize}, decoded ${actualSize} mod 2^32)`, at + 4);
      }
    }
    await this.startNextMemberOrFinish();
  }

  private async startNextMemberOrFinish(): Promise<void> {
    const at = this.inflater.inputOffset();
    const avail = await this.ensure(2);
    if (avail === 0) {
      this.finished = true;
      return;
    }
    const magic = this.inflater.peekBytes(Math.min(avail, 2));
    if (avail >= 2 && magic[0] === 0x1f && magic[1] === 0x8b) {
      await this.readMemberHeader(false);
      return;
    }
    // gunzip ignores (with a warning) whatever follows the last member, e.g. tape padding.
    this.warnings.push(`${this.src.name}: trailing data after gzip member ignored (at compressed offset ${at})`);
    this.finished = true;
  }
}

function hex32(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

function throwIfAborted(src: DumpSource, signal: AbortSignalLike | undefined): void {
  if (signal?.aborted) throw new IoError('ECANCELED', `${src.name}: gzip indexing canceled`);
}

/**
 * One streaming pass over a gzip file in bounded memory: verifies every member (CRC-32, ISIZE),
 * measures the true uncompressed size, and records resume checkpoints about every spanBytes.
 * Throws IoError: EIO for corrupt data (message names the compressed offset), ECANCELED on abort.
 */
export async function buildGzipIndex(compressed: DumpSource, opts: GzipIndexOptions = {}): Promise<GzipIndex> {
  const spanBytes = Math.max(1, opts.spanBytes ?? DEFAULT_SPAN_BYTES);
  const checkpoints: GzipCheckpoint[] = [{ out: 0, inBit: 0, memberStart: true, window: new Uint8Array(0) }];
  let members = 0;
  const dueForCheckpoint = (out: number) => out - checkpoints[checkpoints.length - 1].out >= spanBytes;
  const walker = new GzipWalker(compressed, {
    verify: true,
    onBlockEnd: (w) => {
      if (dueForCheckpoint(w.produced)) {
        checkpoints.push({ out: w.produced, inBit: w.bitPosition(), memberStart: false, window: w.window() });
      }
    },
    onMemberStart: (w, headerOffset) => {
      members++;
      if (dueForCheckpoint(w.produced)) {
        checkpoints.push({ out: w.produced, inBit: headerOffset * 8, memberStart: true, window: new Uint8Array(0) });
      }
    },
    onRead: (done) => opts.onProgress?.(Math.min(done, compressed.size || done), compressed.size),
  });
  try {
    throwIfAborted(compressed, opts.signal);
    await walker.startAt(checkpoints[0]);
    while ((await walker.next()) !== null) throwIfAborted(compressed, opts.signal);
  } catch (e) {
    throw asIoError(compressed, e);
  }
  return {
    compressedSize: compressed.size,
    size: walker.emitted,
    members,
    spanBytes,
    checkpoints,
    warnings: walker.warnings,
  };
}

// --- Random access --------------------------------------------------------------------------

export interface GzipSourceOptions {
  /** Name used in messages (default: the compressed source's name). */
  name?: string;
  /** Bytes of recently decoded output kept for re-reads and sequential reads (default 8 MiB). */
  cacheBytes?: number;
}

interface DecodedSpan {
  readonly start: number;
  readonly bytes: Uint8Array;
}

/** Index a gzip file and open it for random access. */
export async function openGzipSource(
  compressed: DumpSource,
  opts: GzipIndexOptions & GzipSourceOptions = {},
): Promise<GzipSource> {
  return new GzipSource(compressed, await buildGzipIndex(compressed, opts), opts);
}

/** The uncompressed contents of a gzip file as a read-only DumpSource (kind 'file'). */
export class GzipSource implements DumpSource {
  readonly kind = 'file' as const;
  readonly name: string;
  readonly size: number;
  private readonly cacheBytes: number;
  /** Recently decoded output, oldest first. */
  private recent: DecodedSpan[] = [];
  private recentBytes = 0;
  private walker: GzipWalker | null = null;
  /** Reads share one decoder, so they run one at a time. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly compressed: DumpSource,
    readonly index: GzipIndex,
    opts: GzipSourceOptions = {},
  ) {
    this.name = opts.name ?? compressed.name;
    this.size = index.size;
    this.cacheBytes = Math.max(opts.cacheBytes ?? 8 << 20, 2 << 20);
  }

  pread(buf: Uint8Array, offset: number): Promise<number> {
    const result = this.queue.then(() => this.readSerialized(buf, offset));
    this.queue = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    this.walker = null;
    this.recent = [];
    await this.compressed.close?.();
  }

  private async readSerialized(buf: Uint8Array, offset: number): Promise<number> {
    try {
      if (!Number.isSafeInteger(offset) || offset < 0) {
        throw new IoError('EINVAL', `${this.name}: invalid read offset ${offset}`);
      }
      const want = Math.max(0, Math.min(buf.length, this.size - offset));
      let done = 0;
      while (done < want) {
        const copied = this.copyFromRecent(buf.subarray(done, want), offset + done);
        if (copied > 0) done += copied;
        else await this.decodeSpanCovering(offset + done);
      }
      return want;
    } catch (e) {
      throw asIoError(this.compressed, e);
    }
  }

  private copyFromRecent(dest: Uint8Array, pos: number): number {
    for (let i = this.recent.length - 1; i >= 0; i--) {
      const span = this.recent[i];
      const rel = pos - span.start;
      if (rel >= 0 && rel < span.bytes.length) {
        const n = Math.min(dest.length, span.bytes.length - rel);
        dest.set(span.bytes.subarray(rel, rel + n));
        return n;
      }
    }
    return 0;
  }

  private remember(start: number, bytes: Uint8Array): void {
    this.recent.push({ start, bytes: bytes.slice() });
    this.recentBytes += bytes.length;
    while (this.recentBytes > this.cacheBytes && this.recent.length > 1) {
      this.recentBytes -= this.recent.shift()!.bytes.length;
    }
  }

  /** Last checkpoint at or before pos (binary search). */
  private checkpointFor(pos: number): GzipCheckpoint {
    const cps = this.index.checkpoints;
    let lo = 0;
    let hi = cps.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (cps[mid].out <= pos) lo = mid;
      else hi = mid - 1;
    }
    return cps[lo];
  }

  /** Reuse the running decoder when it is at or before pos and no checkpoint is closer. */
  private async decoderFor(pos: number): Promise<GzipWalker> {
    const cp = this.checkpointFor(pos);
    const current = this.walker;
    if (current && current.emitted <= pos && current.emitted >= cp.out) return current;
    const walker = new GzipWalker(this.compressed, { verify: false });
    this.walker = null;
    await walker.startAt(cp);
    this.walker = walker;
    return walker;
  }

  private async decodeSpanCovering(pos: number): Promise<void> {
    try {
      await this.decodeForwardTo(pos);
    } catch (e) {
      this.walker = null; // its state is unknown after a failure; restart from a checkpoint
      throw e;
    }
  }

  private async decodeForwardTo(pos: number): Promise<void> {
    const walker = await this.decoderFor(pos);
    for (;;) {
      const start = walker.emitted;
      const chunk = await walker.next();
      if (chunk === null) {
        throw new IoError('EIO', `${this.name}: gzip data ended at ${start}, before offset ${pos} (file changed?)`);
      }
      if (start + chunk.length > pos) {
        this.remember(start, chunk);
        return;
      }
    }
  }
}
