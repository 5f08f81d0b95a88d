// Expert Witness Format (EWF-E01, what EnCase, FTK Imager and ewfacquire write) read as one
// random-access DumpSource: the media bytes, whatever segment file (.E01, .E02, …) and chunk they
// sit in. Read-only: nothing is ever written to evidence in this format.
//
// Layout (libewf's "Expert Witness Compression Format" notes; checked against ewfacquire output):
//   each segment file: "EVF\x09\x0d\x0a\xff\x00", 0x01, segment number (u16), 0x0000; then sections.
//   section descriptor (76 bytes): type (16, NUL-padded), next section offset (u64, in this file),
//     section size (u64, descriptor included), 40 bytes padding, Adler-32 of the first 72 bytes.
//   "volume"/"disk" (first segment) and "data" (later ones): chunk count (u32 @4), sectors per
//     chunk (u32 @8), bytes per sector (u32 @12), sector count (u64 @16), …, Adler-32 @1048.
//   "sectors": the chunk data. "table": entry count (u32), pad, base offset (u64), pad, Adler-32
//     of those 20 bytes; then one u32 per chunk (bit 31: compressed; the rest: offset from base),
//     then the entries' Adler-32. "table2" repeats "table". A chunk runs to the next entry's offset,
//     the last one of a table to the end of its "sectors" section.
//   a stored chunk is the data and its Adler-32 (LE); a compressed one a zlib stream.
//   Segment files past 2 GiB: an entry has 31 bits of offset, so EnCase 6.7+ and libewf's encase6/7
//     formats end a "sectors" section (and write its table) before it passes 2^31 bytes, and start
//     another whose table's base offset is the new section's: every chunk is at base + entry, the
//     base a u64 (libewf_write_io_handle.c: a section is full once it spans INT32_MAX bytes; the
//     base is the chunks section's offset for encase6/7, 0 for older formats, whose segment files
//     libewf caps at INT32_MAX bytes). EnCase 6.7.1 instead let one table run past 2 GiB with
//     all 32 bits of the later entries as the offset ("table entries offset overflow" in libewf's
//     format notes): from the entry whose chunk runs past 2^31 on, libewf reads entries as 32-bit
//     offsets of stored (uncompressed) chunks (libewf_chunk_group.c), and so do we; a chunk that is
//     not a stored one there fails its Adler-32, an error that names the overflow.
//   "hash": MD5 of the media; "digest": MD5 and SHA-1. "next" ends a segment, "done" the last.
// Every count, offset and size is checked against the file sizes; damage is an EwfError naming the
// segment file, the section and the offset — never a hang or an out-of-memory.

import { IoError } from '../errno.ts';
import type { DumpSource } from '../source.ts';
import { adler32, inflateZlib, type InflateFn } from './zlib.ts';

export const EVF_SIGNATURE = Uint8Array.of(0x45, 0x56, 0x46, 0x09, 0x0d, 0x0a, 0xff, 0x00);
const LVF_SIGNATURE = Uint8Array.of(0x4c, 0x56, 0x46, 0x09, 0x0d, 0x0a, 0xff, 0x00);
const EVF2_SIGNATURE = Uint8Array.of(0x45, 0x56, 0x46, 0x32, 0x0d, 0x0a, 0x81, 0x00);
const DESCRIPTOR = 76;
const FILE_HEADER = 13;

/** Bounds a damaged or hostile image cannot push us past. */
export const EWF_LIMITS = {
  sectionsPerSegment: 1 << 20,
  /** Largest chunk: 32768 sectors of 4 KiB would be 128 MiB; ewfacquire's largest is 16 MiB. */
  maxChunkBytes: 64 << 20,
  /** EnCase writes at most 65534 entries per table; libewf reads up to 16375 or 65534 by version. */
  maxTableEntries: 1 << 20,
  segments: 14971, // E01..E99, EAA..ZZZ
} as const;

export class EwfError extends Error {
  override name = 'EwfError';
}

export interface EwfOptions {
  /** node:zlib in main; core's own inflater otherwise. */
  inflate?: InflateFn;
  /** Decoded chunks kept (default 64: 2 MiB with 32 KiB chunks). */
  cacheChunks?: number;
  name?: string;
}

export interface EwfInfo {
  segments: number;
  chunks: number;
  chunkSize: number;
  sectorsPerChunk: number;
  bytesPerSector: number;
  sectorCount: number;
  mediaSize: number;
  /** Compression level byte of the volume section (0 none, 1 fast, 2 best). */
  compressionLevel: number;
  /** Hex digests stored by the imager, when present. */
  md5: string | null;
  sha1: string | null;
}

interface Table {
  segment: number;
  /** Absolute file offset of the first entry. */
  entriesAt: number;
  count: number;
  base: number;
  firstChunk: number;
  /** Where the last chunk's data ends. */
  dataEnd: number;
  /** An Adler-32 follows the entries (EnCase 2+; SMART and EnCase 1 put the chunks right after them). */
  footer: boolean;
}

export interface ChunkRef {
  segment: number;
  offset: number;
  size: number;
  compressed: boolean;
  /** Read past an EnCase 6.7.1 offset overflow (a 32-bit entry, taken to be a stored chunk). */
  overflow: boolean;
}

/** A table's entries, and where (if anywhere) their offsets overflowed into bit 31. */
interface Entries {
  raw: Uint32Array;
  /** First entry read as a full 32-bit offset (EnCase 6.7.1 overflow); raw.length when none is. */
  overflowFrom: number;
}

/**
 * Where a table's offsets overflow, as libewf decides it: bit 31 is the compression flag until an
 * entry's chunk runs past 2^31 — the next entry's 31 offset bits fall behind its own while all 32
 * bits reach 2^31 — and from that next entry on all 32 bits are the offset of a stored chunk.
 */
export function offsetOverflow(raw: Uint32Array): number {
  for (let i = 0; i + 1 < raw.length; i++) {
    const next = raw[i + 1];
    if (next >= 0x80000000 && (next & 0x7fffffff) < (raw[i] & 0x7fffffff)) return i + 1;
  }
  return raw.length;
}

const entryOffset = (e: Entries, i: number) => (i >= e.overflowFrom ? e.raw[i] : e.raw[i] & 0x7fffffff);

/** Section type names are ASCII, NUL-padded (core has no TextDecoder). */
const latin1 = (b: Uint8Array) => String.fromCharCode(...b);
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

async function readFully(src: DumpSource, offset: number, length: number, what: string): Promise<Uint8Array> {
  if (offset + length > src.size) throw new EwfError(`${src.name}: ${what} at offset ${offset} (${length} bytes) runs past the end of the file (${src.size} bytes)`);
  const buf = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const n = await src.pread(buf.subarray(done), offset + done);
    if (n <= 0) throw new EwfError(`${src.name}: ${what} at offset ${offset}: the file ends after ${done} of ${length} bytes`);
    done += n;
  }
  return buf;
}

function startsWith(b: Uint8Array, sig: Uint8Array): boolean {
  return sig.every((x, i) => b[i] === x);
}

/** Whether these first bytes are an EWF-E01 segment file's. */
export function isEwfSignature(first: Uint8Array): boolean {
  return first.length >= 8 && startsWith(first, EVF_SIGNATURE);
}

/**
 * The name of segment `n` (1-based) after `first`: .E01 … .E99, then .EAA … .EZZ, .FAA … .ZZZ
 * (SMART images: .s01 … .s99, .saa … .zzz); the case of the first segment's extension is kept.
 */
export function segmentName(first: string, n: number): string {
  const m = /\.([EeSs])01$/.exec(first);
  if (!m) throw new EwfError(`${first}: an EWF image's first segment file name ends in .E01 (or .s01)`);
  const upper = m[1] === m[1].toUpperCase();
  const base = m[1].toUpperCase().charCodeAt(0);
  let ext: string;
  if (n < 100) ext = `${String.fromCharCode(base)}${String(n).padStart(2, '0')}`;
  else {
    const k = n - 100; // 0 → EAA
    const lead = Math.floor(k / 676);
    if (base + lead > 90) throw new EwfError(`segment ${n} has no EWF file name (the last is .ZZZ)`);
    ext = String.fromCharCode(base + lead, 65 + Math.floor((k % 676) / 26), 65 + (k % 26));
  }
  return first.slice(0, -3) + (upper ? ext : ext.toLowerCase());
}

export class EwfSource implements DumpSource {
  readonly kind = 'file' as const;
  readonly name: string;
  readonly size: number;
  private readonly cache = new Map<number, Uint8Array>();
  private readonly tableCache = new Map<number, Entries>();
  private readonly inflate: InflateFn;
  private readonly cacheChunks: number;
  /** Bytes of segment files read (for tests and the bench). */
  bytesRead = 0;

  private constructor(
    private readonly segments: DumpSource[],
    readonly info: EwfInfo,
    private readonly tables: Table[],
    opts: EwfOptions,
  ) {
    this.name = opts.name ?? segments[0].name;
    this.size = info.mediaSize;
    this.inflate = opts.inflate ?? inflateZlib;
    this.cacheChunks = Math.max(1, opts.cacheChunks ?? 64);
  }

  /** Parse the segment files (in order: .E01, .E02, …). They stay owned by the caller. */
  static async open(segments: DumpSource[], opts: EwfOptions = {}): Promise<EwfSource> {
    if (segments.length === 0) throw new EwfError('no segment files');
    if (segments.length > EWF_LIMITS.segments) throw new EwfError(`${segments.length} segment files: more than EWF names (${EWF_LIMITS.segments})`);
    let volume: { chunks: number; sectorsPerChunk: number; bytesPerSector: number; sectorCount: number; level: number } | null = null;
    const tables: Table[] = [];
    let chunks = 0;
    let md5: string | null = null;
    let sha1: string | null = null;
    let done = false;
    for (let s = 0; s < segments.length; s++) {
      const seg = segments[s];
      if (done) throw new EwfError(`${seg.name}: segment ${s + 1} follows the segment that ended the image ("done" section)`);
      const head = await readFully(seg, 0, FILE_HEADER, 'file header');
      if (startsWith(head, EVF2_SIGNATURE)) throw new EwfError(`${seg.name}: EWF2 (Ex01) images are not supported; convert with ewfexport -f encase6`);
      if (startsWith(head, LVF_SIGNATURE)) throw new EwfError(`${seg.name}: a logical evidence file (L01) holds files, not a disk`);
      if (!startsWith(head, EVF_SIGNATURE)) throw new EwfError(`${seg.name}: no EWF signature at offset 0 (found ${hex(head.subarray(0, 8))})`);
      const number = head[9] | (head[10] << 8);
      if (number !== s + 1) throw new EwfError(`${seg.name}: segment number at offset 9 is ${number}, expected ${s + 1} (segment files out of order or missing)`);
      let at = FILE_HEADER;
      let sectorsEnd: number | null = null;
      let ended = false;
      for (let count = 0; !ended; count++) {
        if (count >= EWF_LIMITS.sectionsPerSegment) throw new EwfError(`${seg.name}: more than ${EWF_LIMITS.sectionsPerSegment} sections`);
        const d = await readFully(seg, at, DESCRIPTOR, 'section descriptor');
        const dv = new DataView(d.buffer);
        const stored = dv.getUint32(72, true);
        const computed = adler32(d, 0, 72);
        if (stored !== computed) throw new EwfError(`${seg.name}: section descriptor at offset ${at}: Adler-32 is 0x${stored.toString(16)}, computed 0x${computed.toString(16)}`);
        const type = latin1(d.subarray(0, 16)).replace(/\0.*$/s, '');
        const next = Number(dv.getBigUint64(16, true));
        const size = Number(dv.getBigUint64(24, true));
        const where = `${seg.name}: "${type}" section at offset ${at}`;
        if (type === 'done' || type === 'next') {
          ended = true;
          done = type === 'done';
          break;
        }
        if (!Number.isSafeInteger(next) || next <= at || next > seg.size) throw new EwfError(`${where}: next section offset ${next} is not after it and inside the file (${seg.size} bytes)`);
        if (size !== 0 && (size < DESCRIPTOR || at + size > seg.size)) throw new EwfError(`${where}: size ${size} is not between ${DESCRIPTOR} and the end of the file`);
        const dataAt = at + DESCRIPTOR;
        const dataEnd = size === 0 ? next : at + size;
        if (type === 'volume' || type === 'disk' || type === 'data') {
          if (dataEnd - dataAt < 94) throw new EwfError(`${where}: ${dataEnd - dataAt} bytes, too short for a volume section`);
          const v = await readFully(seg, dataAt, Math.min(1052, dataEnd - dataAt), `${type} section`);
          const vv = new DataView(v.buffer);
          if (v.length === 1052) {
            const vs = vv.getUint32(1048, true);
            const vc = adler32(v, 0, 1048);
            if (vs !== vc) throw new EwfError(`${where}: volume data Adler-32 is 0x${vs.toString(16)}, computed 0x${vc.toString(16)}`);
          }
          const vol = {
            chunks: vv.getUint32(4, true), sectorsPerChunk: vv.getUint32(8, true), bytesPerSector: vv.getUint32(12, true),
            sectorCount: Number(vv.getBigUint64(16, true)), level: v.length > 52 ? v[52] : 0,
          };
          if (!volume) {
            const chunkSize = vol.sectorsPerChunk * vol.bytesPerSector;
            if (vol.bytesPerSector === 0 || vol.sectorsPerChunk === 0 || chunkSize > EWF_LIMITS.maxChunkBytes) {
              throw new EwfError(`${where}: ${vol.sectorsPerChunk} sectors of ${vol.bytesPerSector} bytes per chunk is not a usable chunk size`);
            }
            if (!Number.isSafeInteger(vol.sectorCount * vol.bytesPerSector)) throw new EwfError(`${where}: sector count ${vol.sectorCount} is absurd`);
            if (vol.chunks * vol.sectorsPerChunk < vol.sectorCount) throw new EwfError(`${where}: ${vol.chunks} chunks of ${vol.sectorsPerChunk} sectors cannot hold ${vol.sectorCount} sectors`);
            volume = vol;
          } else if (vol.sectorsPerChunk !== volume.sectorsPerChunk || vol.bytesPerSector !== volume.bytesPerSector || vol.sectorCount !== volume.sectorCount) {
            throw new EwfError(`${where}: media geometry differs from the first segment's`);
          }
        } else if (type === 'sectors') {
          sectorsEnd = dataEnd;
        } else if (type === 'table') {
          if (!volume) throw new EwfError(`${where}: a chunk table before any volume section`);
          const t = await readFully(seg, dataAt, 24, 'table header');
          const tv = new DataView(t.buffer);
          const ts = tv.getUint32(20, true);
          const tc = adler32(t, 0, 20);
          if (ts !== tc) throw new EwfError(`${where}: table header Adler-32 is 0x${ts.toString(16)}, computed 0x${tc.toString(16)}`);
          const n = tv.getUint32(0, true);
          const base = Number(tv.getBigUint64(8, true));
          if (n === 0 || n > EWF_LIMITS.maxTableEntries || dataAt + 24 + 4 * n > dataEnd) throw new EwfError(`${where}: ${n} entries do not fit its ${dataEnd - dataAt} bytes`);
          if (!Number.isSafeInteger(base) || base > seg.size) throw new EwfError(`${where}: base offset ${base} is past the end of the file`);
          if (chunks + n > volume.chunks) throw new EwfError(`${where}: ${chunks + n} chunks in the tables so far, the volume has ${volume.chunks}`);
          // Chunk data ends with the "sectors" section it follows; in SMART and EnCase 1 images it
          // follows the entries inside the table section itself, and no checksum comes between.
          const first = new DataView((await readFully(seg, dataAt + 24, 4, 'first table entry')).buffer).getUint32(0, true);
          const entriesEnd = dataAt + 24 + 4 * n;
          const inside = base + (first & 0x7fffffff) === entriesEnd;
          const end = inside ? dataEnd : sectorsEnd !== null && sectorsEnd <= at ? sectorsEnd : at;
          tables.push({ segment: s, entriesAt: dataAt + 24, count: n, base, firstChunk: chunks, dataEnd: end, footer: !inside });
          chunks += n;
          sectorsEnd = null;
        } else if (type === 'hash' && md5 === null) {
          if (dataEnd - dataAt >= 16) md5 = hex(await readFully(seg, dataAt, 16, 'hash section'));
        } else if (type === 'digest') {
          if (dataEnd - dataAt >= 36) {
            const g = await readFully(seg, dataAt, 36, 'digest section');
            md5 = hex(g.subarray(0, 16));
            sha1 = hex(g.subarray(16, 36));
          }
        }
        at = next;
      }
    }
    if (!volume) throw new EwfError(`${segments[0].name}: no volume section`);
    if (!done) throw new EwfError(`${segments.at(-1)!.name}: the last segment file ends with "next", not "done": segment ${segments.length + 1} is missing`);
    if (chunks !== volume.chunks) throw new EwfError(`${segments[0].name}: the chunk tables list ${chunks} chunks, the volume section ${volume.chunks}`);
    const allZero = (s: string | null) => (s && /^0+$/.test(s) ? null : s);
    const info: EwfInfo = {
      segments: segments.length, chunks, chunkSize: volume.sectorsPerChunk * volume.bytesPerSector,
      sectorsPerChunk: volume.sectorsPerChunk, bytesPerSector: volume.bytesPerSector, sectorCount: volume.sectorCount,
      mediaSize: volume.sectorCount * volume.bytesPerSector, compressionLevel: volume.level, md5: allZero(md5), sha1: allZero(sha1),
    };
    return new EwfSource(segments, info, tables, opts);
  }

  async pread(buf: Uint8Array, offset: number): Promise<number> {
    if (!Number.isSafeInteger(offset) || offset < 0) throw new IoError('EINVAL', `${this.name}: read at offset ${offset}`);
    if (offset >= this.size) return 0;
    const want = Math.min(buf.length, this.size - offset);
    const cs = this.info.chunkSize;
    let done = 0;
    while (done < want) {
      const pos = offset + done;
      const index = Math.floor(pos / cs);
      const chunk = await this.chunk(index);
      const from = pos - index * cs;
      const n = Math.min(want - done, chunk.length - from);
      if (n <= 0) throw new IoError('EIO', `${this.name}: chunk ${index} holds ${chunk.length} bytes, offset ${pos} needs more`);
      buf.set(chunk.subarray(from, from + n), done);
      done += n;
    }
    return want;
  }

  /** The media bytes of one chunk, decoded and checked. */
  async chunk(index: number): Promise<Uint8Array> {
    const hit = this.cache.get(index);
    if (hit) {
      this.cache.delete(index); // most recently used last
      this.cache.set(index, hit);
      return hit;
    }
    const ref = await this.locate(index);
    const cs = this.info.chunkSize;
    const expected = Math.min(cs, this.size - index * cs);
    const seg = this.segments[ref.segment];
    const where = `${seg.name}: chunk ${index} at offset ${ref.offset}`;
    const raw = await readFully(seg, ref.offset, ref.size, `chunk ${index}`);
    this.bytesRead += raw.length;
    let data: Uint8Array;
    if (ref.compressed) {
      try {
        data = await this.inflate(raw, cs);
      } catch (e) {
        throw new IoError('EIO', `${where}: corrupt compressed chunk: ${(e as Error).message}`);
      }
      if (data.length < expected) throw new IoError('EIO', `${where}: inflates to ${data.length} bytes, the chunk has ${expected}`);
    } else {
      const past = ref.overflow ? ' (past its table\'s 2 GiB offset overflow, where entries are read as 32-bit offsets of stored chunks, as libewf does: the chunk is damaged, or the table is not an EnCase 6.7.1 one)' : '';
      if (ref.size < expected + 4) throw new IoError('EIO', `${where}: ${ref.size} stored bytes, the chunk needs ${expected} and a checksum${past}`);
      const len = ref.size - 4 >= cs ? cs : expected;
      data = raw.subarray(0, len);
      const stored = new DataView(raw.buffer, raw.byteOffset + len, 4).getUint32(0, true);
      const computed = adler32(data);
      if (stored !== computed) throw new IoError('EIO', `${where}: Adler-32 is 0x${stored.toString(16)}, the data gives 0x${computed.toString(16)}${past}`);
    }
    const out = data.length === expected ? data : data.subarray(0, expected);
    this.cache.set(index, out);
    if (this.cache.size > this.cacheChunks) this.cache.delete(this.cache.keys().next().value!);
    return out;
  }

  private async locate(index: number): Promise<ChunkRef> {
    if (index < 0 || index >= this.info.chunks) throw new IoError('EIO', `${this.name}: chunk ${index} is not in the image (${this.info.chunks} chunks)`);
    let lo = 0;
    let hi = this.tables.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.tables[mid].firstChunk <= index) lo = mid;
      else hi = mid - 1;
    }
    const t = this.tables[lo];
    const entries = await this.entries(lo);
    const i = index - t.firstChunk;
    const seg = this.segments[t.segment];
    const offset = t.base + entryOffset(entries, i);
    const end = i + 1 < t.count ? t.base + entryOffset(entries, i + 1) : t.dataEnd;
    const size = end - offset;
    const overflow = i >= entries.overflowFrom;
    if (offset >= seg.size || size <= 0 || size > this.info.chunkSize + 1024 + 4) {
      const note = overflow ? ` (read as a 32-bit offset past the table's offset overflow at entry ${entries.overflowFrom})` : '';
      throw new IoError('EIO', `${seg.name}: chunk ${index} (table entry ${i} at offset ${t.entriesAt + 4 * i}${note}): data at ${offset}..${end} is not a chunk of at most ${this.info.chunkSize} bytes`);
    }
    return { segment: t.segment, offset, size, compressed: !overflow && entries.raw[i] >= 0x80000000, overflow };
  }

  /** Where chunk `index` is stored: segment (0-based), file offset, stored size, how. */
  async chunkLocation(index: number): Promise<ChunkRef> {
    return this.locate(index);
  }

  private async entries(table: number): Promise<Entries> {
    const hit = this.tableCache.get(table);
    if (hit) return hit;
    const t = this.tables[table];
    const seg = this.segments[t.segment];
    const bytes = await readFully(seg, t.entriesAt, 4 * t.count + (t.footer ? 4 : 0), 'chunk table entries');
    const dv = new DataView(bytes.buffer);
    if (t.footer) {
      const stored = dv.getUint32(4 * t.count, true);
      const computed = adler32(bytes, 0, 4 * t.count);
      if (stored !== computed) throw new IoError('EIO', `${seg.name}: chunk table entries at offset ${t.entriesAt}: Adler-32 is 0x${stored.toString(16)}, computed 0x${computed.toString(16)}`);
    }
    const raw = new Uint32Array(t.count);
    for (let i = 0; i < t.count; i++) raw[i] = dv.getUint32(4 * i, true);
    const entries: Entries = { raw, overflowFrom: offsetOverflow(raw) };
    this.tableCache.set(table, entries);
    if (this.tableCache.size > 8) this.tableCache.delete(this.tableCache.keys().next().value!);
    return entries;
  }
}
