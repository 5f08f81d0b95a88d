// The dump's physical memory segments (phys_ram_seg_t, spec 5.1): the one place where a physical
// address is matched against them. libkvm's _kvm_pa2off (first match in header order, a miss
// answering the end of the memory data) and the strict physical layer (sorted, bisect, a miss is
// a hole) share the same match rule, so they can never disagree about what a segment covers.

import type { PhysRamSeg } from '../format/kcore.ts';
import { rawSegments, type SegmentTable } from '../machines/segment-table.ts';

const U64_LIMIT = 1n << 64n;

/**
 * How a segment's end is computed, as each architecture's C does it (spec 5.1): x86 tests
 * `pa - start < size` (never wraps: a segment reaching past 2^64 covers up to the top), aarch64
 * tests `pa < start + size` in u64 (a sum that wraps makes the segment match nothing).
 */
export type SegmentEndRule = 'x86' | 'aarch64';

/** The first PA past seg under rule (up to 2^64; equal to start when the segment matches nothing). */
export function segmentEnd(seg: PhysRamSeg, rule: SegmentEndRule): bigint {
  const end = seg.start + seg.size;
  if (rule === 'aarch64') {
    const wrapped = BigInt.asUintN(64, end);
    return wrapped < seg.start ? seg.start : wrapped;
  }
  return end < U64_LIMIT ? end : U64_LIMIT;
}

/** Whether pa lies in seg under rule. */
export function segmentHolds(seg: PhysRamSeg, pa: bigint, rule: SegmentEndRule): boolean {
  return pa >= seg.start && pa < segmentEnd(seg, rule);
}

/**
 * _kvm_pa2off minus dump_off (spec 5.1), exactly as NetBSD computes it: the sizes of the segments
 * before the first one (in header order) holding pa, plus pa - start; no match → the total size of
 * all segments, i.e. the end of the memory data. Only libkvm's API may use this miss answer.
 */
export function libkvmPa2off(
  table: SegmentTable | readonly PhysRamSeg[],
  pa: bigint,
  rule: SegmentEndRule,
): number {
  const parts: Iterable<PhysRamSeg>[] = isTable(table)
    ? (table.tail ? [table.segments, rawSegments(table.tail)] : [table.segments])
    : [table];
  let off = 0n;
  for (const part of parts) {
    for (const seg of part) {
      if (segmentHolds(seg, pa, rule)) return Number(off + (pa - seg.start));
      off += seg.size;
    }
  }
  return Number(off);
}

function isTable(t: SegmentTable | readonly PhysRamSeg[]): t is SegmentTable {
  return !Array.isArray(t);
}

/** A segment placed in the memory data: [start, end) at dataOffset (bytes after dump_off). */
export interface PlacedSegment {
  start: bigint;
  end: bigint;
  dataOffset: bigint;
}

/**
 * The segments as the strict layer looks them up: each with its data offset (the running sum of
 * the sizes before it in header order, as libkvm places them), sorted by start for bisection.
 * Where segments overlap, libkvm's first match in header order decides which bytes a PA has; the
 * index then answers by that linear rule instead of bisection, so both paths agree.
 */
export class SegmentIndex {
  private readonly sorted: PlacedSegment[];
  private readonly inHeaderOrder: PlacedSegment[];
  private readonly overlapping: boolean;

  constructor(segments: readonly PhysRamSeg[], rule: SegmentEndRule) {
    let off = 0n;
    this.inHeaderOrder = [];
    for (const seg of segments) {
      const end = segmentEnd(seg, rule);
      if (end > seg.start) this.inHeaderOrder.push({ start: seg.start, end, dataOffset: off });
      off += seg.size;
    }
    this.sorted = [...this.inHeaderOrder].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    this.overlapping = this.sorted.some((s, i) => i > 0 && s.start < this.sorted[i - 1].end);
  }

  /** Segments sorted by start (empty ones left out). */
  get segments(): readonly PlacedSegment[] {
    return this.sorted;
  }

  /** The segment whose bytes pa reads, or null when pa is in no segment. */
  find(pa: bigint): PlacedSegment | null {
    if (this.overlapping) return this.inHeaderOrder.find((s) => pa >= s.start && pa < s.end) ?? null;
    const lo = this.firstStartingAfter(pa);
    const seg = lo > 0 ? this.sorted[lo - 1] : null;
    return seg && pa < seg.end ? seg : null;
  }

  /**
   * The first PA >= pa where the answer of find() can change (the next segment start, or the end
   * of the segment holding pa), up to 2^64.
   */
  nextBoundary(pa: bigint): bigint {
    let next = U64_LIMIT;
    const holder = this.find(pa);
    if (holder) next = holder.end;
    for (const s of this.overlapping ? this.inHeaderOrder : this.sortedFrom(pa)) {
      if (s.start > pa && s.start < next) next = s.start;
      if (!this.overlapping) break;
    }
    if (this.overlapping) {
      for (const s of this.inHeaderOrder) if (s.end > pa && s.end < next) next = s.end;
    }
    return next;
  }

  /** Sorted segments starting after pa (the first is the next start). */
  private *sortedFrom(pa: bigint): Iterable<PlacedSegment> {
    for (let i = this.firstStartingAfter(pa); i < this.sorted.length; i++) yield this.sorted[i];
  }

  /** Bisect: the index of the first sorted segment whose start is above pa. */
  private firstStartingAfter(pa: bigint): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.sorted[mid].start <= pa) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
