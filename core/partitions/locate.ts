// Finding the dump NetBSD's cpu_dumpconf placed in a partition, reading only where it can be.
// cpu_dumpconf (amd64/i386 machdep, aarch64 aarch64_machdep; spec 8 and "dumplo") sets
// dumplo = nblks − dumpblks, dumpblks = 1 header block + ctod(RAM pages): the header sits one
// block before a whole number of 4 KiB pages that end at the partition's end. When that does not
// fit, amd64 (sparse dumps) and i386 fall back to dumplo = ctod(1) = 8. So we test only blocks at
// (nblks − 1 − 8k), from the end backwards, reading just those sectors where the source can (a file
// or device: one sector in eight) and large backwards reads elsewhere, stopping at the first header
// the full kvm_dump_mkheader check accepts whose memory fits inside the partition; then block 8.

import { Kvm } from '../kvm.ts';
import type { MachineName } from '../machines/machine.ts';
import { CORE_CPU, KCORE_MAGIC, readMidMag } from '../format/kcore.ts';
import { preadEachFully, preadFully, type CancelSignal, type DumpSource } from '../source.ts';
import { describe } from './read-map.ts';
import { SECTOR, type Partition, type PartitionMap } from './types.ts';
import { WindowSource } from './window-source.ts';

/** ctod(1) on every port we read: 4 KiB pages of 512-byte blocks. */
export const BLOCKS_PER_PAGE = 8;

export interface LocatedDump {
  /** The partition searched (null: the whole device). */
  partition: Partition | null;
  /** dumplo in 512-byte blocks, relative to the partition, as the crashed kernel had it. */
  dumplo: number;
  /** Absolute byte offset of the header on the disk. */
  offset: number;
  machine: MachineName;
  /** kvm_dump_mkheader's result: bytes from the header to the first memory byte. */
  headerSize: number;
  segments: number;
  memoryBytes: number;
  /**
   * 'end': header + memory end exactly at the partition end (a full dump where cpu_dumpconf put it);
   * 'fits': it ends before (a sparse dump smaller than the RAM dumpconf sized for);
   * 'ctod1': at block 8, where small partitions get it.
   */
  placement: 'end' | 'fits' | 'ctod1';
}

export interface LocateOptions {
  /** Bytes per backwards read (default 1 MiB). */
  chunkSize?: number;
  /** Most bytes of each partition searched back from its end before giving up on the end placement (default: all). */
  maxBytesPerPartition?: number;
  /** Search every partition (and nothing else), not just NetBSD swap partitions. */
  allPartitions?: boolean;
  signal?: CancelSignal;
  onProgress?: (read: number) => void;
}

export interface LocateResult {
  dumps: LocatedDump[];
  /** The partitions searched. */
  searched: Partition[];
  /** Bytes read from the source while searching. */
  bytesRead: number;
}

/** The partitions worth searching: NetBSD swap ones, or all non-container ones when asked. */
export function dumpPartitions(map: PartitionMap, all = false): Partition[] {
  return map.partitions.filter((p) => {
    if (p.raw || p.size < 2 * BLOCKS_PER_PAGE * SECTOR) return false;
    if (all) return !map.partitions.some((c) => c.parent === p.id) && !['0x05', '0x0f', '0x85'].includes(p.type);
    return p.kind === 'swap';
  });
}

export async function locateDumps(src: DumpSource, map: PartitionMap, opts: LocateOptions = {}): Promise<LocateResult> {
  const result: LocateResult = { dumps: [], searched: [], bytesRead: 0 };
  for (const p of dumpPartitions(map, opts.allPartitions)) {
    const size = p.truncated ? Math.max(0, map.diskSize - p.start) : p.size;
    result.searched.push(p);
    const found = await locateInRange(src, p.start, size, p, opts, result);
    if (found) result.dumps.push(found);
  }
  return result;
}

/** Search one byte range (a partition, or a whole device given as one) for the dump cpu_dumpconf put there. */
export async function locateInRange(
  src: DumpSource, start: number, size: number, partition: Partition | null, opts: LocateOptions = {},
  counter: { bytesRead: number } = { bytesRead: 0 },
): Promise<LocatedDump | null> {
  const nblks = Math.floor(size / SECTOR);
  if (nblks <= BLOCKS_PER_PAGE) return null;
  const win = new WindowSource(src, start, nblks * SECTOR, partition ? `${src.name} ${describe(partition)}` : src.name);
  // Highest candidate block: one header block and at least one page before the end.
  const search: Search = { win, top: nblks - 1 - BLOCKS_PER_PAGE, budget: opts.maxBytesPerPartition ?? Infinity, opts, counter };
  const candidates = win.preadEach ? sectorProbes(search) : backwardsChunks(search);
  for await (const block of candidates) {
    const hit = await confirm(win, start, nblks, block, partition, counter);
    if (hit) return hit;
  }
  // Small partitions: dumplo = ctod(1). (When nblks − 1 ≡ 0 mod 8 the search above already tried it.)
  const probe = new Uint8Array(SECTOR);
  const n = await preadFully(win, probe, BLOCKS_PER_PAGE * SECTOR);
  counter.bytesRead += n;
  if (n === SECTOR && looksLikeHeader(probe, 0)) {
    const hit = await confirm(win, start, nblks, BLOCKS_PER_PAGE, partition, counter);
    if (hit) return { ...hit, placement: hit.placement === 'end' ? 'end' : 'ctod1' };
  }
  return null;
}

interface Search {
  win: WindowSource;
  /** The highest candidate block; the others are top − 8k down to block 8. */
  top: number;
  /** Most bytes of the range searched back from its end. */
  budget: number;
  opts: LocateOptions;
  counter: { bytesRead: number };
}

/** Candidates read per gather call: 2048 sectors, one per page of 8 MiB of the partition. */
const PROBES_PER_GATHER = 2048;

/**
 * The candidate blocks that look like a header, highest first, reading only those blocks: one
 * sector in eight. Each gather reads its candidates in ascending order, so the kernel's readahead
 * sees pages touched in sequence on a disk that has no page cache yet.
 */
async function* sectorProbes(s: Search): AsyncGenerator<number> {
  const slots = new Uint8Array(PROBES_PER_GATHER * SECTOR);
  let block = s.top;
  while (block >= BLOCKS_PER_PAGE && (s.top - block) * SECTOR < s.budget) {
    s.opts.signal?.throwIfAborted();
    const page = BLOCKS_PER_PAGE * SECTOR;
    const left = Math.ceil((s.budget - (s.top - block) * SECTOR) / page);
    const count = Math.min(PROBES_PER_GATHER, left, Math.floor((block - BLOCKS_PER_PAGE) / BLOCKS_PER_PAGE) + 1);
    const low = block - (count - 1) * BLOCKS_PER_PAGE;
    const offsets = Array.from({ length: count }, (_, i) => (low + i * BLOCKS_PER_PAGE) * SECTOR);
    const whole = await preadEachFully(s.win, slots, offsets, SECTOR);
    s.counter.bytesRead += whole * SECTOR;
    s.opts.onProgress?.(s.counter.bytesRead);
    for (let i = whole - 1; i >= 0; i--) if (looksLikeHeader(slots, i * SECTOR)) yield low + i * BLOCKS_PER_PAGE;
    block = low - BLOCKS_PER_PAGE;
  }
}

/**
 * The same candidates from sources without a gather read (E01, split and gzip images, tests):
 * the range read backwards in large reads, since every small read there costs a whole chunk.
 */
async function* backwardsChunks(s: Search): AsyncGenerator<number> {
  const chunkSize = Math.max(SECTOR * BLOCKS_PER_PAGE, s.opts.chunkSize ?? 1 << 20);
  const chunk = new Uint8Array(chunkSize);
  let block = s.top;
  while (block >= BLOCKS_PER_PAGE && (s.top - block) * SECTOR < s.budget) {
    s.opts.signal?.throwIfAborted();
    // The read covers candidates block, block-8, … ending just after `block`.
    const endByte = (block + 1) * SECTOR;
    const startByte = Math.max(0, endByte - chunkSize);
    const view = chunk.subarray(0, endByte - startByte);
    const n = await preadFully(s.win, view, startByte);
    s.counter.bytesRead += n;
    s.opts.onProgress?.(s.counter.bytesRead);
    for (; block >= BLOCKS_PER_PAGE && block * SECTOR >= startByte; block -= BLOCKS_PER_PAGE) {
      const at = block * SECTOR - startByte;
      if (at + SECTOR <= n && looksLikeHeader(view, at)) yield block;
    }
  }
}

/** A kernel-written CPU segment header starts with KCORE_MAGIC and the CORE_CPU flag. */
function looksLikeHeader(buf: Uint8Array, at: number): boolean {
  if (buf[at + 2] !== 0x8f || buf[at + 3] !== 0xca) return false;
  const mm = readMidMag(buf, at);
  return mm.magic === KCORE_MAGIC && mm.flag === CORE_CPU;
}

/** The full header check (kvm_dump_mkheader through the public Kvm API), and the memory must fit. */
async function confirm(
  win: WindowSource, start: number, nblks: number, dumplo: number, partition: Partition | null, counter: { bytesRead: number },
): Promise<LocatedDump | null> {
  const counting: DumpSource = {
    name: win.name, kind: win.kind, size: win.size,
    pread: async (buf, off) => {
      const n = await win.pread(buf, off);
      counter.bytesRead += Math.max(0, n);
      return n;
    },
  };
  const kd = await Kvm.open({ dump: counting });
  if (kd.hasHeader) return null; // a savecore core file inside a partition is not a dump device
  const headerSize = await kd.mkheader(dumplo * SECTOR);
  const machine = kd.machine;
  if (headerSize <= 0 || !machine || headerSize % SECTOR !== 0) return null;
  const memoryBytes = machine.segments.reduce((sum, s) => sum + Number(s.size), 0);
  if (machine.segments.length === 0 || memoryBytes % 4096 !== 0) return null;
  const end = dumplo * SECTOR + headerSize + memoryBytes;
  const partEnd = nblks * SECTOR;
  if (end > partEnd) return null;
  return {
    partition, dumplo, offset: start + dumplo * SECTOR, machine: machine.name, headerSize,
    segments: machine.segments.length, memoryBytes, placement: end === partEnd ? 'end' : 'fits',
  };
}
