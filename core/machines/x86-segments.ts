// The x86 segment table (kvm_x86_64.c / kvm_i386.c, spec 5.1; pa2off is in layers/segments.ts): nmemsegs entries of
// phys_ram_seg_t at ALIGN(sizeof cpu_kcore_hdr_t), searched in order, first match wins.

import { PHYS_RAM_SEG_SIZE, type PhysRamSeg } from '../format/kcore.ts';
import { readSegment } from './cpu-data.ts';
import { MAX_DECODED_SEGMENTS, rawSegments, type SegmentTable } from './segment-table.ts';

export type { SegmentTable } from './segment-table.ts';

/**
 * The nmemsegs entries at off. C trusts nmemsegs and reads past the CPU data when it is too
 * large; entries beyond the data would be zero-filled here, and a zero entry (size 0) never
 * matches and adds nothing to the offset, so stopping at the end of the data is equivalent —
 * and keeps a garbage count (say 2^64 - 1) from looping forever.
 */
export function decodeCountedSegments(
  cpuData: Uint8Array,
  off: number,
  nmemsegs: bigint,
  littleEndian: boolean,
): SegmentTable {
  const inside = Math.max(0, Math.ceil((cpuData.length - off) / PHYS_RAM_SEG_SIZE));
  const count = Number(nmemsegs < BigInt(inside) ? nmemsegs : BigInt(inside));
  const segments: PhysRamSeg[] = [];
  const decoded = Math.min(count, MAX_DECODED_SEGMENTS);
  for (let i = 0; i < decoded; i++) segments.push(readSegment(cpuData, off, i, littleEndian));
  const tail = count > decoded
    ? { cpuData, at: off + decoded * PHYS_RAM_SEG_SIZE, from: decoded, count, littleEndian }
    : null;
  return { segments, tail, count };
}
