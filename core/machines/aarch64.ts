// aarch64 (kvm_aarch64.c 1.11, spec 3.3, 5.1, 5.5): CPU header {kh_tcr1 u64, kh_ttbr1 u64,
// kh_nramsegs u64}, kh_ramsegs[] at 24 ending at the first size-0 entry, and a table walk whose
// shape (granule, levels) comes from TCR_EL1.

import { MID } from '../format/mids.ts';
import { PHYS_RAM_SEG_SIZE, type PhysRamSeg } from '../format/kcore.ts';
import { TRANSLATION_FAILED, type MachineModule, type MachineState, type Translation, type WalkContext } from './machine.ts';
import { readCpuWord, readSegment, segmentStartsInside, u64 } from './cpu-data.ts';
import { readPresentEntry, translated } from './walk-step.ts';
import { MAX_DECODED_SEGMENTS, rawSegments, type SegmentTable } from './segment-table.ts';
import { aarch64Flags } from './entry-flags.ts';
import { libkvmPa2off } from '../layers/segments.ts';

/** NetBSD/aarch64 is little-endian; aarch64eb (same MID) is not supported (spec 2.3). */
const LITTLE_ENDIAN = true;
const RAMSEGS_OFFSET = 24; // UNVERIFIED position (spec 3.3, 11.3)

/** AARCH64_DIRECTMAP_MASK == AARCH64_DIRECTMAP_START: kernel VAs have bits 63..48 all set. */
const KERNEL_VA_MASK = 0xffff000000000000n;
const TCR_TG1 = 0xc0000000n;
const TTBR_BADDR = 0x0000ffffffffffffn;
const LX_TYPE = 0x2n; // 0 = block, 1 = table / page

/** Granule page shift for each TCR_EL1.TG1 encoding (spec 5.5 step 3). */
const PAGE_SHIFT_BY_TG1 = new Map<bigint, bigint>([
  [0x80000000n, 12n], // 4 KiB
  [0x40000000n, 14n], // 16 KiB
  [0xc0000000n, 16n], // 64 KiB
]);

/** Bits hi..lo set, as NetBSD's __BITS(hi, lo). */
function bits(hi: bigint, lo: bigint): bigint {
  return ((1n << (hi + 1n)) - 1n) & ~((1n << lo) - 1n);
}

/** The walk's shape, derived from TCR_EL1 (spec 5.5 steps 3–8). null = unusable TCR. */
interface WalkShape {
  pageShift: bigint;
  pteShift: bigint;
  levels: number;
  inputBits: bigint;
}

function walkShape(tcr1: bigint): WalkShape | null {
  const pageShift = PAGE_SHIFT_BY_TG1.get(tcr1 & TCR_TG1);
  if (pageShift === undefined) return null; // bad granule: C fails without a message (spec 9.10)
  const inputBits = 64n - ((tcr1 >> 16n) & 0x3fn);
  // With T1SZ so large that the VA is no wider than a page, C's unsigned level count underflows
  // into undefined shifts; we fail the same silent way as a bad granule (a deviation).
  if (inputBits <= pageShift) return null;
  const pteShift = pageShift - 3n;
  const levels = Number((inputBits - pageShift + pteShift - 1n) / pteShift); // howmany()
  return { pageShift, pteShift, levels, inputBits };
}

/** _kvm_kvatop (spec 5.5). The ISALIVE check is the caller's: a WalkContext is a crash dump. */
export async function aarch64Kvatop(ctx: WalkContext, tcr1: bigint, ttbr1: bigint, vaIn: bigint): Promise<Translation> {
  let va = u64(vaIn);
  // Checked before anything else, so no table is read for a user or non-canonical VA.
  if ((va & KERNEL_VA_MASK) !== KERNEL_VA_MASK) {
    ctx.err('invalid kernel virtual address');
    return TRANSLATION_FAILED;
  }
  const shape = walkShape(tcr1);
  if (shape === null) return TRANSLATION_FAILED;

  const { pageShift, pteShift } = shape;
  const pageSize = 1n << pageShift;
  const pageMask = pageSize - 1n;
  const pageAddr = bits(47n, pageShift); // output address bits; drops DBM, SW, XN, upper attrs
  va &= (1n << shape.inputBits) - 1n;

  let levels = shape.levels;
  let addrShift = pageShift + BigInt(levels - 1) * pteShift;
  let table = ttbr1 & TTBR_BADDR; // drops the ASID in bits 63..48
  for (;;) {
    const index = (va >> addrShift) & ((1n << pteShift) - 1n);
    // Level numbers as the architecture counts them: the last level is 3 (a 2-level walk is L2, L3).
    const level = 4 - levels;
    const lastLevel = levels === 1;
    const at = {
      level, name: `L${level}`, tableAddress: table, index, size: 8 as const, span: 1n << addrShift,
      flags: (e: bigint) => aarch64Flags(e, lastLevel),
    };
    const entry = await readPresentEntry(ctx, at, {
      readFailed: 'could not read pte',
      notPresent: 'invalid translation (invalid pte)',
    });
    if (entry === null) return TRANSLATION_FAILED;

    // A block at any level, even the last (where hardware would call it reserved): spec 5.5 10c.
    if ((entry & LX_TYPE) === 0n) {
      const blockMask = (1n << addrShift) - 1n;
      return translated((entry & pageAddr & ~blockMask) | (va & blockMask), (1n << addrShift) - (va & blockMask));
    }
    if (--levels === 0) return translated((entry & pageAddr) | (va & pageMask), pageSize - (va & pageMask));
    table = entry & pageAddr;
    addrShift -= pteShift;
  }
}

/**
 * kh_ramsegs up to the first entry whose size is 0. C has no bound and would read past the end
 * of cpu_data when no terminator is present (spec 5.1, 9.10); we treat the end of the CPU data
 * as the terminator instead. Only the first MAX_DECODED_SEGMENTS become objects (see x86-segments).
 */
function decodeTerminatedSegments(cpuData: Uint8Array): SegmentTable {
  const segments: PhysRamSeg[] = [];
  let count = 0;
  for (; segmentStartsInside(cpuData, RAMSEGS_OFFSET, count); count++) {
    const segment = readSegment(cpuData, RAMSEGS_OFFSET, count, LITTLE_ENDIAN);
    if (segment.size === 0n) break;
    if (count < MAX_DECODED_SEGMENTS) segments.push(segment);
  }
  const tail = count > segments.length
    ? { cpuData, at: RAMSEGS_OFFSET + segments.length * PHYS_RAM_SEG_SIZE, from: segments.length, count, littleEndian: LITTLE_ENDIAN }
    : null;
  return { segments, tail, count };
}


class Aarch64State implements MachineState {
  readonly name = 'aarch64' as const;
  readonly segments: readonly PhysRamSeg[];
  readonly segmentCount: number;
  private readonly table: SegmentTable;
  /** pa2off's match test is start <= pa < start + size, the sum in u64 as in C (spec 5.1). */
  readonly segmentEndRule = 'aarch64' as const;
  readonly fields: Readonly<Record<string, bigint>>;
  private readonly tcr1: bigint;
  private readonly ttbr1: bigint;

  constructor(cpuData: Uint8Array) {
    this.tcr1 = readCpuWord(cpuData, 0, 8, LITTLE_ENDIAN);
    this.ttbr1 = readCpuWord(cpuData, 8, 8, LITTLE_ENDIAN);
    // Shown only: libkvm ignores kh_nramsegs and walks to the zero entry.
    const nramsegs = readCpuWord(cpuData, 16, 8, LITTLE_ENDIAN);
    this.table = decodeTerminatedSegments(cpuData);
    this.segments = this.table.segments;
    this.segmentCount = this.table.count;
    this.fields = Object.freeze({ tcr1: this.tcr1, ttbr1: this.ttbr1, nramsegs });
  }

  pa2off(pa: bigint): number {
    return libkvmPa2off(this.table, pa, this.segmentEndRule);
  }

  kvatop(ctx: WalkContext, va: bigint): Promise<Translation> {
    return aarch64Kvatop(ctx, this.tcr1, this.ttbr1, va);
  }
}

export const aarch64: MachineModule = Object.freeze({
  name: 'aarch64',
  mid: MID.AARCH64,
  alignBytes: 15,
  littleEndian: LITTLE_ENDIAN,
  longSize: 8,
  pageSize: 4096,
  elfClass: 64,
  elfMachines: Object.freeze([183]), // EM_AARCH64
  open: (cpuData: Uint8Array): MachineState => new Aarch64State(cpuData),
});
