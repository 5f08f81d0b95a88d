// The gzip file format (RFC 1952) as the index and the random-access source both need it: the
// magic check, CRC-32, and the walker that frames members (header parsing with FEXTRA, FNAME,
// FCOMMENT and FHCRC, trailer CRC-32/ISIZE checks, trailing garbage) around the DEFLATE streams
// inflate.ts decodes, starting from the first byte or from any checkpoint. gzip-index.ts drives it
// once over the whole file; gzip-source.ts resumes it wherever a read lands.

import { IoError, errnoOf } from '../errno.ts';
import { preadFully, type DumpSource } from '../source.ts';
import {
  BLOCK_END,
  InflateError,
  Inflater,
  NEED_INPUT,
  OUTPUT_FULL,
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

// --- Magic and errors -----------------------------------------------------------------------

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
export function asIoError(src: DumpSource, e: unknown): IoError {
  if (e instanceof IoError) return e;
  if (e instanceof InflateError) return new IoError('EIO', `${src.name}: corrupt gzip data: ${e.message}`);
  const message = e instanceof Error ? e.message : String(e);
  return new IoError(errnoOf(e), `${src.name}: ${message}`);
}

// --- Streaming walker over members ----------------------------------------------------------

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

const READ_CHUNK = 1 << 20;

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
export class GzipWalker {
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
