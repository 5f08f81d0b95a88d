// A pure-TypeScript DEFLATE decoder (RFC 1951) built for random access into gzip files:
// it can pause at every block boundary, report where it is (compressed bit offset + the last
// 32 KiB of output), and later restart from such a checkpoint (the zran technique).
//
// Input is fed in chunks (the caller owns the I/O, which is async); run() decodes until it
// needs more input, its output buffer is full, a block ended, or the stream ended. Suspension
// only happens between symbols, so no partial-symbol state has to be saved.

/** A corrupt or truncated DEFLATE stream; bitOffset is the absolute compressed bit position. */
export class InflateError extends Error {
  constructor(
    readonly reason: string,
    readonly bitOffset: number,
  ) {
    super(`${reason} at compressed offset ${Math.floor(bitOffset / 8)} (bit ${bitOffset % 8})`);
    this.name = 'InflateError';
  }
}

/** DEFLATE's back-reference window: the history a checkpoint must carry. */
export const WINDOW_SIZE = 32768;

/** Values returned by Inflater.run(). */
export const NEED_INPUT = 0;
export const OUTPUT_FULL = 1;
export const BLOCK_END = 2;
export const STREAM_END = 3;
export type InflateStatus = typeof NEED_INPUT | typeof OUTPUT_FULL | typeof BLOCK_END | typeof STREAM_END;

// --- Huffman table entries -------------------------------------------------------------------
// One Int32 per entry: value << 16 | extra bits << 8 | type | bits to consume.
// A code longer than the root width points (T_LINK) to a sub-table indexed by the remaining bits.
const T_LIT = 0x00;
const T_LEN = 0x10; // length base (lit/len table) or distance base (distance table)
const T_EOB = 0x20;
const T_LINK = 0x30;
const T_BAD = 0x40;
const TYPE_MASK = 0x70;

const LEN_ROOT = 10;
const DIST_ROOT = 8;
const CL_ROOT = 7;
const MAX_BITS = 15;
// Root table plus one sub-table per long-code prefix, each sized for the longest code.
const LEN_TABLE_SIZE = (1 << LEN_ROOT) + 288 * (1 << (MAX_BITS - LEN_ROOT));
const DIST_TABLE_SIZE = (1 << DIST_ROOT) + 32 * (1 << (MAX_BITS - DIST_ROOT));

const LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
/** Order in which code-length code lengths are sent (RFC 1951 3.2.7). */
const CODE_LENGTH_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

function litLenEntries(): Int32Array {
  const e = new Int32Array(288);
  for (let s = 0; s < 256; s++) e[s] = (s << 16) | T_LIT;
  e[256] = T_EOB;
  for (let s = 257; s < 286; s++) e[s] = (LENGTH_BASE[s - 257] << 16) | (LENGTH_EXTRA[s - 257] << 8) | T_LEN;
  e[286] = e[287] = T_BAD; // legal in the fixed code, invalid if ever used
  return e;
}

function distEntries(): Int32Array {
  const e = new Int32Array(32);
  for (let s = 0; s < 30; s++) e[s] = (DIST_BASE[s] << 16) | (DIST_EXTRA[s] << 8) | T_LEN;
  e[30] = e[31] = T_BAD;
  return e;
}

function codeLengthEntries(): Int32Array {
  const e = new Int32Array(19);
  for (let s = 0; s < 19; s++) e[s] = (s << 16) | T_LIT;
  return e;
}

const LIT_LEN_ENTRIES = litLenEntries();
const DIST_ENTRIES = distEntries();
const CODE_LENGTH_ENTRIES = codeLengthEntries();

function reverseBits(code: number, len: number): number {
  let r = 0;
  for (let i = 0; i < len; i++) {
    r = (r << 1) | (code & 1);
    code >>>= 1;
  }
  return r;
}

/** Why a set of code lengths cannot form a usable prefix code, or null if it can. */
function checkCodeLengths(counts: Uint16Array, maxLen: number): string | null {
  let left = 1;
  for (let len = 1; len <= MAX_BITS; len++) {
    left = (left << 1) - counts[len];
    if (left < 0) return 'over-subscribed';
  }
  // Like zlib, an incomplete code is only allowed when it is a single 1-bit code (or empty).
  if (left > 0 && maxLen > 1) return 'incomplete';
  return null;
}

/**
 * Build a canonical Huffman decoding table (root table + sub-tables) into `table`.
 * Returns an error description, or null on success.
 */
function buildTable(
  lengths: Uint8Array,
  count: number,
  symbolEntries: Int32Array,
  rootBits: number,
  table: Int32Array,
): string | null {
  const counts = new Uint16Array(MAX_BITS + 1);
  for (let s = 0; s < count; s++) counts[lengths[s]]++;
  counts[0] = 0;
  let maxLen = 0;
  for (let len = MAX_BITS; len > 0; len--) {
    if (counts[len]) {
      maxLen = len;
      break;
    }
  }
  const problem = checkCodeLengths(counts, maxLen);
  if (problem) return problem;

  const nextCode = new Uint16Array(MAX_BITS + 2);
  for (let len = 1, code = 0; len <= MAX_BITS; len++) {
    code = (code + counts[len - 1]) << 1;
    nextCode[len] = code;
  }
  const rootSize = 1 << rootBits;
  const subBits = maxLen > rootBits ? maxLen - rootBits : 0;
  const subSize = 1 << subBits;
  let nextFree = rootSize;
  table.fill(T_BAD, 0, rootSize);
  for (let s = 0; s < count; s++) {
    const len = lengths[s];
    if (len === 0) continue;
    const rev = reverseBits(nextCode[len]++, len);
    const entry = symbolEntries[s];
    if (len <= rootBits) {
      for (let i = rev; i < rootSize; i += 1 << len) table[i] = entry | len;
      continue;
    }
    const prefix = rev & (rootSize - 1);
    let link = table[prefix];
    if ((link & TYPE_MASK) !== T_LINK) {
      link = (nextFree << 16) | (subBits << 8) | T_LINK | rootBits;
      table.fill(T_BAD, nextFree, nextFree + subSize);
      table[prefix] = link;
      nextFree += subSize;
    }
    const base = link >>> 16;
    const subLen = len - rootBits;
    for (let i = rev >>> rootBits; i < subSize; i += 1 << subLen) table[base + i] = entry | subLen;
  }
  return null;
}

function buildFixedTables(): { lit: Int32Array; dist: Int32Array } {
  const lengths = new Uint8Array(288);
  lengths.fill(8, 0, 144);
  lengths.fill(9, 144, 256);
  lengths.fill(7, 256, 280);
  lengths.fill(8, 280, 288);
  const lit = new Int32Array(LEN_TABLE_SIZE);
  buildTable(lengths, 288, LIT_LEN_ENTRIES, LEN_ROOT, lit);
  const dist = new Int32Array(DIST_TABLE_SIZE);
  buildTable(new Uint8Array(32).fill(5), 32, DIST_ENTRIES, DIST_ROOT, dist);
  return { lit, dist };
}

const FIXED = buildFixedTables();

// --- The decoder ----------------------------------------------------------------------------

const MODE_HEADER = 0;
const MODE_STORED = 1;
const MODE_CODES = 2;
const MODE_DONE = 3;

/** Zero bytes kept after the input at EOF, so the hot loop never reads out of bounds. */
const INPUT_PAD = 64;
/** Bytes before the read position kept on compaction, so buffered bits can be given back. */
const INPUT_KEEP = 8;
/** The hot loop stops this far from the end of non-final input (one symbol needs <= 6 bytes). */
const CODES_MARGIN = 16;
/** A dynamic block header needs at most ~580 bytes; ask for more input rather than suspend in it. */
const HEADER_MARGIN = 1024;
/** Output produced between slides of the history window. */
export const OUTPUT_CHUNK = 1 << 20;
const MAX_MATCH = 258;

export class Inflater {
  // Input: inp[ip, inEnd) unread; inBase is the absolute offset of inp[0].
  private inp = new Uint8Array(OUTPUT_CHUNK + INPUT_PAD);
  private ip = 0;
  private inEnd = 0;
  private inBase = 0;
  private inEof = false;
  private bitBuf = 0;
  private bitCount = 0;

  // Output: out[0, op) is stream history (the last <= 32 KiB survive slides);
  // out[outStart, op) has not been handed to the caller yet.
  private readonly out = new Uint8Array(WINDOW_SIZE + OUTPUT_CHUNK + MAX_MATCH);
  private readonly outLimit = WINDOW_SIZE + OUTPUT_CHUNK;
  private op = 0;
  private outStart = 0;

  private mode = MODE_DONE;
  private lastBlock = false;
  private storedLeft = 0;
  private litTable: Int32Array = FIXED.lit;
  private distTable: Int32Array = FIXED.dist;
  private readonly dynLit = new Int32Array(LEN_TABLE_SIZE);
  private readonly dynDist = new Int32Array(DIST_TABLE_SIZE);
  private readonly lengths = new Uint8Array(288 + 32);
  private readonly clTable = new Int32Array(1 << CL_ROOT);

  // --- input management ---

  /** Forget all input; the next bytes fed start at absolute compressed offset `absOffset`. */
  resetInput(absOffset: number): void {
    this.inBase = absOffset;
    this.ip = this.inEnd = 0;
    this.bitBuf = this.bitCount = 0;
    this.inEof = false;
  }

  /** Room for up to `n` more input bytes; fill it, then call inputWritten. */
  inputSpace(n: number): Uint8Array {
    const keep = Math.max(0, this.ip - INPUT_KEEP);
    if (keep > 0) {
      this.inp.copyWithin(0, keep, this.inEnd);
      this.inBase += keep;
      this.ip -= keep;
      this.inEnd -= keep;
    }
    const needed = this.inEnd + n + INPUT_PAD;
    if (needed > this.inp.length) {
      const grown = new Uint8Array(needed);
      grown.set(this.inp.subarray(0, this.inEnd));
      this.inp = grown;
    }
    return this.inp.subarray(this.inEnd, this.inEnd + n);
  }

  /** `n` bytes were written into the last inputSpace(); `eof`: no input will follow. */
  inputWritten(n: number, eof: boolean): void {
    this.inEnd += n;
    this.inEof = eof;
    if (eof) this.inp.fill(0, this.inEnd, this.inEnd + INPUT_PAD);
  }

  /** Discard the first `bits` (< 8) bits of the input, to resume mid-byte. */
  skipBits(bits: number): void {
    if (bits === 0) return;
    this.pullBitsSafe(bits);
    this.dropBits(bits);
  }

  /** Whole unread input bytes (only meaningful when byte-aligned, e.g. after releaseBits). */
  bytesAvailable(): number {
    return this.inEnd - this.ip;
  }

  get eof(): boolean {
    return this.inEof;
  }

  /** A view of the next `n` unread bytes (n <= bytesAvailable()). */
  peekBytes(n: number): Uint8Array {
    return this.inp.subarray(this.ip, this.ip + n);
  }

  consumeBytes(n: number): void {
    this.ip += n;
  }

  /** Absolute offset of the next unread byte (when byte-aligned). */
  inputOffset(): number {
    return this.inBase + this.ip;
  }

  /** Absolute compressed bit position of the next bit the decoder will consume. */
  bitPosition(): number {
    return (this.inBase + this.ip) * 8 - this.bitCount;
  }

  /** After STREAM_END: drop the partial byte and give buffered whole bytes back to the input. */
  releaseBits(): void {
    this.dropBits(this.bitCount & 7);
    this.ip -= this.bitCount >>> 3;
    this.bitBuf = this.bitCount = 0;
  }

  // --- stream control ---

  /** Begin a DEFLATE stream at the current input position, optionally with preset history. */
  startStream(window?: Uint8Array): void {
    this.mode = MODE_HEADER;
    this.lastBlock = false;
    this.op = 0;
    if (window) {
      this.out.set(window.subarray(Math.max(0, window.length - WINDOW_SIZE)));
      this.op = Math.min(window.length, WINDOW_SIZE);
    }
    this.outStart = this.op;
  }

  /** Output not yet taken; valid until the next run(). */
  takeOutput(): Uint8Array {
    const chunk = this.out.subarray(this.outStart, this.op);
    this.outStart = this.op;
    return chunk;
  }

  pendingOutput(): number {
    return this.op - this.outStart;
  }

  /** A copy of the last <= 32 KiB of output: the history a checkpoint needs. */
  window(): Uint8Array {
    return this.out.slice(Math.max(0, this.op - WINDOW_SIZE), this.op);
  }

  /**
   * Decode until more input is needed (never at EOF), the output buffer is full, a block
   * ended (checkpoint opportunity), or the stream ended. Throws InflateError on bad data.
   */
  run(): InflateStatus {
    if (this.op >= this.outLimit) {
      if (this.outStart !== this.op) return OUTPUT_FULL; // the caller must take it first
      this.slideWindow();
    }
    for (;;) {
      let status: number;
      if (this.mode === MODE_HEADER) status = this.readBlockHeader();
      else if (this.mode === MODE_STORED) status = this.copyStored();
      else if (this.mode === MODE_CODES) status = this.decodeCodes();
      else return STREAM_END;
      if (status >= 0) return status as InflateStatus;
    }
  }

  /** Keep only the last 32 KiB of history, making room for the next output chunk. */
  private slideWindow(): void {
    this.out.copyWithin(0, this.op - WINDOW_SIZE, this.op);
    this.op = this.outStart = WINDOW_SIZE;
  }

  private fail(reason: string): never {
    throw new InflateError(reason, this.bitPosition());
  }

  private failIfPastEnd(): void {
    if (this.bitPosition() > (this.inBase + this.inEnd) * 8) this.fail('truncated deflate stream');
  }

  // --- bit reading outside the hot loop (bounds-checked: past the end reads zeros) ---

  private pullBitsSafe(n: number): void {
    while (this.bitCount < n) {
      const byte = this.ip < this.inEnd ? this.inp[this.ip] : 0;
      this.ip++;
      this.bitBuf |= byte << this.bitCount;
      this.bitCount += 8;
    }
  }

  private dropBits(n: number): void {
    this.bitBuf >>>= n;
    this.bitCount -= n;
  }

  private bits(n: number): number {
    this.pullBitsSafe(n);
    const v = this.bitBuf & ((1 << n) - 1);
    this.dropBits(n);
    return v;
  }

  // --- block structure ---

  private endBlock(): number {
    if (this.inEof) this.failIfPastEnd();
    if (this.lastBlock) {
      this.mode = MODE_DONE;
      return STREAM_END;
    }
    this.mode = MODE_HEADER;
    return BLOCK_END;
  }

  private readBlockHeader(): number {
    if (!this.inEof && this.inEnd - this.ip < HEADER_MARGIN) return NEED_INPUT;
    const header = this.bits(3);
    this.lastBlock = (header & 1) === 1;
    const type = header >>> 1;
    if (type === 0) this.readStoredHeader();
    else if (type === 1) this.useFixedTables();
    else if (type === 2) this.readDynamicTables();
    else this.fail('invalid block type 3');
    if (this.inEof) this.failIfPastEnd();
    return -1;
  }

  private readStoredHeader(): void {
    this.releaseBits();
    if (this.inEnd - this.ip < 4) this.fail('truncated stored block header');
    const p = this.ip;
    const len = this.inp[p] | (this.inp[p + 1] << 8);
    const nlen = this.inp[p + 2] | (this.inp[p + 3] << 8);
    if (len !== (~nlen & 0xffff)) this.fail('invalid stored block lengths');
    this.ip += 4;
    this.storedLeft = len;
    this.mode = MODE_STORED;
  }

  private copyStored(): number {
    const n = Math.min(this.storedLeft, this.inEnd - this.ip, this.outLimit - this.op);
    this.out.set(this.inp.subarray(this.ip, this.ip + n), this.op);
    this.ip += n;
    this.op += n;
    this.storedLeft -= n;
    if (this.storedLeft === 0) return this.endBlock();
    if (this.op >= this.outLimit) return OUTPUT_FULL;
    if (this.inEof) this.fail('truncated stored block');
    return NEED_INPUT;
  }

  private useFixedTables(): void {
    this.litTable = FIXED.lit;
    this.distTable = FIXED.dist;
    this.mode = MODE_CODES;
  }

  private readDynamicTables(): void {
    const nlen = this.bits(5) + 257;
    const ndist = this.bits(5) + 1;
    const ncode = this.bits(4) + 4;
    if (nlen > 286 || ndist > 30) this.fail('too many length or distance symbols');
    const lengths = this.lengths;
    lengths.fill(0, 0, 19);
    for (let i = 0; i < ncode; i++) lengths[CODE_LENGTH_ORDER[i]] = this.bits(3);
    const clProblem = buildTable(lengths, 19, CODE_LENGTH_ENTRIES, CL_ROOT, this.clTable);
    if (clProblem) this.fail(`invalid code lengths set (${clProblem})`);
    this.readCodeLengths(nlen + ndist);
    if (lengths[256] === 0) this.fail('missing end-of-block code');
    const litProblem = buildTable(lengths, nlen, LIT_LEN_ENTRIES, LEN_ROOT, this.dynLit);
    if (litProblem) this.fail(`invalid literal/lengths set (${litProblem})`);
    const distLengths = lengths.subarray(nlen, nlen + ndist);
    const distProblem = buildTable(distLengths, ndist, DIST_ENTRIES, DIST_ROOT, this.dynDist);
    if (distProblem) this.fail(`invalid distances set (${distProblem})`);
    this.litTable = this.dynLit;
    this.distTable = this.dynDist;
    this.mode = MODE_CODES;
  }

  /** Decode the run-length-coded literal/length + distance code lengths into this.lengths. */
  private readCodeLengths(total: number): void {
    const lengths = this.lengths;
    let i = 0;
    while (i < total) {
      this.pullBitsSafe(CL_ROOT);
      const e = this.clTable[this.bitBuf & ((1 << CL_ROOT) - 1)];
      if ((e & TYPE_MASK) === T_BAD) this.fail('invalid code length code');
      this.dropBits(e & 15);
      const sym = e >>> 16;
      if (sym < 16) {
        lengths[i++] = sym;
        continue;
      }
      let repeat: number;
      let value = 0;
      if (sym === 16) {
        if (i === 0) this.fail('invalid bit length repeat (no previous length)');
        value = lengths[i - 1];
        repeat = 3 + this.bits(2);
      } else if (sym === 17) repeat = 3 + this.bits(3);
      else repeat = 11 + this.bits(7);
      if (i + repeat > total) this.fail('invalid bit length repeat (too many lengths)');
      lengths.fill(value, i, i + repeat);
      i += repeat;
    }
  }

  /** The hot loop: Huffman-decode literals and matches until something needs attention. */
  private decodeCodes(): number {
    const inp = this.inp;
    const out = this.out;
    const lit = this.litTable;
    const dist = this.distTable;
    const inLimit = this.inEof ? this.inEnd + 8 : this.inEnd - CODES_MARGIN;
    const outLimit = this.outLimit;
    const litMask = (1 << LEN_ROOT) - 1;
    const distMask = (1 << DIST_ROOT) - 1;
    let ip = this.ip;
    let op = this.op;
    let bb = this.bitBuf;
    let bc = this.bitCount;
    let status = -1;
    let problem = '';

    for (;;) {
      if (ip >= inLimit) {
        status = NEED_INPUT;
        break;
      }
      if (op >= outLimit) {
        status = OUTPUT_FULL;
        break;
      }
      if (bc < 15) {
        bb |= (inp[ip] << bc) | (inp[ip + 1] << (bc + 8));
        ip += 2;
        bc += 16;
      }
      let e = lit[bb & litMask];
      if ((e & TYPE_MASK) === T_LINK) {
        bb >>>= LEN_ROOT;
        bc -= LEN_ROOT;
        e = lit[(e >>> 16) + (bb & ((1 << ((e >>> 8) & 31)) - 1))];
      }
      let n = e & 15;
      bb >>>= n;
      bc -= n;
      let type = e & TYPE_MASK;
      if (type === T_LIT) {
        out[op++] = e >>> 16;
        continue;
      }
      if (type !== T_LEN) {
        if (type === T_EOB) status = -2;
        else problem = 'invalid literal/length code';
        break;
      }
      // Length: base + extra bits (<= 5), then a distance code (<= 15 bits).
      while (bc < 20) {
        bb |= inp[ip++] << bc;
        bc += 8;
      }
      n = (e >>> 8) & 31;
      const length = (e >>> 16) + (bb & ((1 << n) - 1));
      bb >>>= n;
      bc -= n;
      e = dist[bb & distMask];
      if ((e & TYPE_MASK) === T_LINK) {
        bb >>>= DIST_ROOT;
        bc -= DIST_ROOT;
        e = dist[(e >>> 16) + (bb & ((1 << ((e >>> 8) & 31)) - 1))];
      }
      n = e & 15;
      bb >>>= n;
      bc -= n;
      type = e & TYPE_MASK;
      if (type !== T_LEN) {
        problem = 'invalid distance code';
        break;
      }
      n = (e >>> 8) & 31;
      while (bc < n) {
        bb |= inp[ip++] << bc;
        bc += 8;
      }
      const distance = (e >>> 16) + (bb & ((1 << n) - 1));
      bb >>>= n;
      bc -= n;
      if (distance > op) {
        problem = 'invalid distance too far back';
        break;
      }
      let from = op - distance;
      if (distance === 1) {
        out.fill(out[from], op, op + length);
        op += length;
      } else if (distance >= length && length > 32) {
        out.copyWithin(op, from, from + length);
        op += length;
      } else {
        const end = op + length;
        while (op < end) out[op++] = out[from++];
      }
    }

    this.ip = ip;
    this.op = op;
    this.bitBuf = bb;
    this.bitCount = bc;
    if (problem) this.fail(problem);
    if (status === -2) return this.endBlock();
    if (status === NEED_INPUT && this.inEof) this.fail('truncated deflate stream');
    return status;
  }
}
