// Dump discovery: find CPU segment headers a dying kernel wrote (format A) at 512-byte boundaries
// when dumplo is unknown, which is the normal case for a disk attached to a foreign workstation.
// Streams the source in large reads; memory use is one chunk.

import { ByteView } from './format/bytes.ts';
import { alignUp, CORE_CPU, KCORE_MAGIC, KCORE_SEG_SIZE, readMidMag } from './format/kcore.ts';
import { machineByMid } from './machines/index.ts';
import type { MachineName } from './machines/machine.ts';
import { preadFully, type CancelSignal, type DumpSource } from './source.ts';

export interface ScanCandidate {
  /** Byte offset of the CPU segment header (dumplo * 512). */
  offset: number;
  machine: MachineName;
  /** What kvm_dump_mkheader would return at this offset. */
  headerSize: number;
  /** Number of physical segments and bytes of memory the header describes. */
  segments: number;
  memoryBytes: number;
  /** Whether the source is long enough to hold all that memory. */
  complete: boolean;
  /** What looks wrong although kvm_dump_mkheader would accept it (odd flag, no segments). */
  notes: string[];
}

export interface ScanOptions {
  /**
   * Bytes per read (default 4 MiB), rounded up to whole sectors. Re-measured over a 2 GiB image in
   * the page cache (2 cores, node 20): 4 MiB reads, eight in flight, were the fastest.
   */
  chunkSize?: number;
  /** Largest CPU segment a real kernel writes; bigger c_size values are noise. */
  maxCpuDataSize?: number;
  /** Chunk reads kept in flight ahead of the check (default 8). Memory use is chunkSize × readAhead. */
  readAhead?: number;
  onProgress?: (scanned: number, total: number) => void;
  signal?: CancelSignal;
  /**
   * Read at most this many bytes. A source without a known size (an endless device such as
   * /dev/zero) is read up to UNSIZED_SCAN_LIMIT unless this says otherwise.
   */
  maxBytes?: number;
  /** Called once when the scan stopped at maxBytes (or the unsized default) before the end. */
  onLimit?: (scannedBytes: number) => void;
}

const SECTOR = 512;
/** Bytes 2..3 of a header (the low half of the big-endian midmag, KCORE_MAGIC) as this host reads a u16. */
const MAGIC_U16 = new Uint16Array(new Uint8Array([KCORE_MAGIC >> 8, KCORE_MAGIC & 0xff]).buffer)[0]!;

/** How far a source without a size is scanned by default: a whole disk's worth, never forever. */
export const UNSIZED_SCAN_LIMIT = 64 * 2 ** 30;

/**
 * Pieces of a readThrough scan: a buffer that stays in the CPU's cache while it is checked. The
 * kernel's copy out of the page cache into 4 MiB buffers took 455 ms of system time for 2 GiB,
 * into cat's 128 KiB 276 ms (perf stat).
 */
const THROUGH_PIECE = 128 << 10;

export async function scanForDumps(src: DumpSource, opts: ScanOptions = {}): Promise<ScanCandidate[]> {
  if (src.readThrough && opts.chunkSize === undefined && opts.readAhead === undefined) return scanThrough(src, opts);
  const chunkSize = Math.max(SECTOR, Math.ceil((opts.chunkSize ?? 4 << 20) / SECTOR) * SECTOR); // chunks start on sectors
  const maxCpu = opts.maxCpuDataSize ?? 16 << 20;
  const depth = opts.readAhead ?? 8;
  const total = src.size;
  const limit = Math.min(opts.maxBytes ?? Infinity, total === 0 ? UNSIZED_SCAN_LIMIT : Infinity);
  const end = Math.min(total === 0 ? Infinity : total, limit);
  // Reads run ahead of the check: with one read at a time the thread sat idle half the scan waiting
  // for the page-cache copy of the next chunk (cpu profile: 180 ms idle of 650 ms over 1 GiB).
  // No more buffers than chunks, none longer than the source (whole sectors): a small source costs little.
  const slots = Math.max(1, Math.min(depth, Math.ceil(end / chunkSize)));
  const bufSize = Math.max(SECTOR, Math.min(chunkSize, Math.ceil(end / SECTOR) * SECTOR));
  const ring = Array.from({ length: slots }, () => new Uint8Array(bufSize));
  // The same buffers as u16s: the check is one load and compare per sector.
  const words = ring.map((b) => new Uint16Array(b.buffer, b.byteOffset, bufSize >> 1));
  const inflight: Promise<number>[] = [];
  const lengthOf = (i: number) => Math.min(chunkSize, end - i * chunkSize);
  const issue = (i: number) => {
    const p = preadFully(src, ring[i % slots]!.subarray(0, lengthOf(i)), i * chunkSize);
    p.catch(() => undefined); // awaited below; a read still in flight when we stop must not go unhandled
    inflight[i % slots] = p;
  };
  const want = (i: number) => i * chunkSize < end;
  for (let i = 0; i < slots && want(i); i++) issue(i);
  const found: ScanCandidate[] = [];
  let i = 0;
  for (; want(i); i++) {
    opts.signal?.throwIfAborted();
    const base = i * chunkSize;
    const n = await inflight[i % slots]!;
    const chunk = ring[i % slots]!;
    const w = words[i % slots]!;
    const hits: number[] = [];
    for (let off = 0; off + KCORE_SEG_SIZE <= n; off += SECTOR) {
      if (w[(off >> 1) + 1] === MAGIC_U16) hits.push(off); // the magic at bytes 2..3: fast reject before decoding
    }
    for (const off of hits) {
      const cand = await examine(src, base + off, chunk.slice(off, off + KCORE_SEG_SIZE), maxCpu, total);
      if (cand) found.push(cand);
    }
    opts.onProgress?.(Math.min(base + n, total || base + n), total || limit);
    if (n < lengthOf(i)) return found; // the end of the source
    if (want(i + slots)) issue(i + slots); // the buffer is free again
  }
  // Stopped by the limit, not by the end of the source: say so.
  if (i * chunkSize >= limit && (total === 0 || limit < total)) opts.onLimit?.(limit);
  return found;
}

/** The same scan through the source's synchronous sequential read: each piece checked while hot. */
async function scanThrough(src: DumpSource, opts: ScanOptions): Promise<ScanCandidate[]> {
  const maxCpu = opts.maxCpuDataSize ?? 16 << 20;
  const total = src.size;
  const limit = Math.min(opts.maxBytes ?? Infinity, total === 0 ? UNSIZED_SCAN_LIMIT : Infinity);
  const end = Math.min(total === 0 ? Infinity : total, limit);
  const buf = new Uint8Array(Math.max(SECTOR, Math.min(THROUGH_PIECE, Math.ceil(end / SECTOR) * SECTOR)));
  const words = new Uint16Array(buf.buffer, buf.byteOffset, buf.length >> 1);
  const found: ScanCandidate[] = [];
  let hits: { at: number; seg: Uint8Array }[] = [];
  // Pieces start at buf[0] and on a sector (whole pieces, from offset 0): the magic at bytes 2..3.
  const visit = (piece: Uint8Array, at: number) => {
    for (let off = 0; off + KCORE_SEG_SIZE <= piece.length; off += SECTOR) {
      if (words[(off >> 1) + 1] === MAGIC_U16) hits.push({ at: at + off, seg: piece.slice(off, off + KCORE_SEG_SIZE) });
    }
  };
  let pos = 0;
  while (pos < end) {
    opts.signal?.throwIfAborted();
    const reached = await src.readThrough!(buf, pos, end, visit);
    for (const h of hits) {
      const cand = await examine(src, h.at, h.seg, maxCpu, total);
      if (cand) found.push(cand);
    }
    hits = [];
    if (reached > pos) opts.onProgress?.(Math.min(reached, total || reached), total || limit);
    if (reached === pos || (reached < end && reached % buf.length !== 0)) return found; // the end of the source
    pos = reached;
  }
  if (pos >= limit && (total === 0 || limit < total)) opts.onLimit?.(limit);
  return found;
}

/**
 * A candidate is what kvm_dump_mkheader would accept (magic, known MID) that also ends on a sector
 * boundary as every kernel-written header does. Odd details mkheader does not check (the flag, an
 * empty segment list) are reported as notes rather than hidden.
 */
async function examine(src: DumpSource, offset: number, seg: Uint8Array, maxCpu: number, total: number): Promise<ScanCandidate | null> {
  const mm = readMidMag(seg);
  const module = mm.magic === KCORE_MAGIC ? machineByMid(mm.mid) : undefined;
  if (!module) return null;
  const cSize = new ByteView(seg, module.littleEndian).u32(4);
  const cpuOff = alignUp(KCORE_SEG_SIZE, module.alignBytes);
  const headerSize = cpuOff + cSize;
  if (cSize === 0 || cSize > maxCpu || headerSize % SECTOR !== 0) return null;
  const cpuData = new Uint8Array(cSize);
  if ((await preadFully(src, cpuData, offset + cpuOff)) !== cSize) return null;
  const state = module.open(cpuData);
  const notes: string[] = [];
  if (mm.flag !== CORE_CPU) notes.push(`segment flag is ${mm.flag}, not CORE_CPU (1); libkvm does not check it`);
  if (state.segments.length === 0) notes.push('the header lists no memory segments');
  if (mm.flag !== CORE_CPU && state.segments.length === 0) return null; // two oddities: noise, not a dump
  const memoryBytes = state.segments.reduce((n, s) => n + Number(s.size), 0);
  return {
    offset,
    machine: state.name,
    headerSize,
    segments: state.segments.length,
    memoryBytes,
    complete: total === 0 || offset + headerSize + memoryBytes <= total,
    notes,
  };
}
