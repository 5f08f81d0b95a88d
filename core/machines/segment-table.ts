// A memory-segment table as read from a CPU header, bounded: the head decoded into objects, the
// rest (only in corrupt headers) left as raw entries and read on demand.

import type { PhysRamSeg } from '../format/kcore.ts';
import { readSegment } from './cpu-data.ts';

/**
 * Segments decoded into objects: real dumps have a few dozen (VM_PHYSSEG_MAX). A corrupt count can
 * claim millions; those stay in the CPU data as raw entries and are read only when a lookup gets
 * past the decoded ones, so memory stays bounded while the answer stays NetBSD's.
 */
export const MAX_DECODED_SEGMENTS = 4096;

/** Entries beyond the decoded ones, still as raw phys_ram_seg_t in the CPU data. */
export interface RawSegmentTail {
  cpuData: Uint8Array;
  /** Offset of entry `from` in cpuData. */
  at: number;
  from: number;
  /** Total number of entries (decoded and raw). */
  count: number;
  littleEndian: boolean;
}

/** The decoded head of a segment table, and where the rest is when there was more. */
export interface SegmentTable {
  segments: PhysRamSeg[];
  tail: RawSegmentTail | null;
  /** Number of entries in the table (decoded + raw). */
  count: number;
}

/** Each raw entry of a tail in order: (start, size), zero-filled past the end of the data. */
export function* rawSegments(tail: RawSegmentTail): Generator<PhysRamSeg> {
  for (let i = 0; i < tail.count - tail.from; i++) yield readSegment(tail.cpuData, tail.at, i, tail.littleEndian);
}

