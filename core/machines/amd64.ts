// amd64 (kvm_x86_64.c, spec 3.1, 5.1, 5.2): 16-byte CPU header {ptdpaddr u64, nmemsegs u64},
// segments at ALIGN(16) = 16, a 4-level walk with 1 GiB and 2 MiB pages.

import { MID } from '../format/mids.ts';
import type { PhysRamSeg } from '../format/kcore.ts';
import { TRANSLATION_FAILED, type MachineModule, type MachineState, type Translation, type WalkContext } from './machine.ts';
import { readCpuWord, u64 } from './cpu-data.ts';
import { readPresentEntry, translated } from './walk-step.ts';
import { decodeCountedSegments, type SegmentTable } from './x86-segments.ts';
import { x86Flags } from './entry-flags.ts';
import { libkvmPa2off } from '../layers/segments.ts';

const LITTLE_ENDIAN = true;
const SEGMENTS_OFFSET = 16; // ALIGN(sizeof(cpu_kcore_hdr_t)) with ALIGNBYTES 7

const PG_PS = 0x80n;
/** Table and 4 KiB frame: bits 51..12 (drops NX bit 63 and the software bits 62..52). */
const FRAME_4K = 0x000ffffffffff000n;
const FRAME_2M = 0x000fffffffe00000n;
const FRAME_1G = 0x000fffffc0000000n;
const SIZE_4K = 0x1000n;
const SIZE_2M = 0x200000n;
const SIZE_1G = 0x40000000n;

/** The 9-bit table index for the level whose VA bits start at shift (39, 30, 21, 12). */
function tableIndex(va: bigint, shift: bigint): bigint {
  return (va >> shift) & 0x1ffn;
}

const entryFlags = (psLevel: boolean) => (entry: bigint) => x86Flags(entry, { psLevel, nx: true });
const L4 = { level: 4, name: 'PML4E', size: 8, span: 1n << 39n, flags: entryFlags(false) } as const;
const L3 = { level: 3, name: 'PDPTE', size: 8, span: SIZE_1G, flags: entryFlags(true) } as const;
const L2 = { level: 2, name: 'PDE', size: 8, span: SIZE_2M, flags: entryFlags(true) } as const;
const L1 = { level: 1, name: 'PTE', size: 8, span: SIZE_4K, flags: entryFlags(false) } as const;

/** The part of va inside a page of `size` bytes, and the pa/cc that result from a frame. */
function pageResult(entry: bigint, frameMask: bigint, va: bigint, size: bigint): Translation {
  const off = va & (size - 1n);
  return translated((entry & frameMask) + off, size - off);
}

/** _kvm_kvatop (spec 5.2). The ISALIVE check is the caller's: a WalkContext is a crash dump. */
export async function amd64Kvatop(ctx: WalkContext, ptdpaddr: bigint, vaIn: bigint): Promise<Translation> {
  const va = u64(vaIn);
  // ptdpaddr is used unmasked at level 4, and PS is not examined there (spec 5.2 step 2).
  const l4 = await readPresentEntry(ctx, { ...L4, tableAddress: ptdpaddr, index: tableIndex(va, 39n) }, {
    readFailed: 'could not read PT level 4 entry',
    notPresent: 'invalid translation (invalid level 4 PDE)',
  });
  if (l4 === null) return TRANSLATION_FAILED;

  const l3 = await readPresentEntry(ctx, { ...L3, tableAddress: l4 & FRAME_4K, index: tableIndex(va, 30n) }, {
    readFailed: 'could not read PT level 3 entry',
    notPresent: 'invalid translation (invalid level 3 PDE)',
  });
  if (l3 === null) return TRANSLATION_FAILED;
  if (l3 & PG_PS) return pageResult(l3, FRAME_1G, va, SIZE_1G);

  const l2 = await readPresentEntry(ctx, { ...L2, tableAddress: l3 & FRAME_4K, index: tableIndex(va, 21n) }, {
    readFailed: 'could not read PT level 2 entry',
    notPresent: 'invalid translation (invalid level 2 PDE)',
  });
  if (l2 === null) return TRANSLATION_FAILED;
  if (l2 & PG_PS) return pageResult(l2, FRAME_2M, va, SIZE_2M);

  // Bit 7 of a PTE is PAT, not PS: never examined at level 1.
  const pte = await readPresentEntry(ctx, { ...L1, tableAddress: l2 & FRAME_4K, index: tableIndex(va, 12n) }, {
    readFailed: 'could not read PTE',
    notPresent: 'invalid translation (invalid PTE)',
  });
  if (pte === null) return TRANSLATION_FAILED;
  return pageResult(pte, FRAME_4K, va, SIZE_4K);
}

class Amd64State implements MachineState {
  readonly name = 'amd64' as const;
  readonly segments: readonly PhysRamSeg[];
  readonly segmentCount: number;
  private readonly table: SegmentTable;
  readonly segmentEndRule = 'x86' as const;
  readonly fields: Readonly<Record<string, bigint>>;
  private readonly ptdpaddr: bigint;

  constructor(cpuData: Uint8Array) {
    this.ptdpaddr = readCpuWord(cpuData, 0, 8, LITTLE_ENDIAN);
    const nmemsegs = readCpuWord(cpuData, 8, 8, LITTLE_ENDIAN);
    this.table = decodeCountedSegments(cpuData, SEGMENTS_OFFSET, nmemsegs, LITTLE_ENDIAN);
    this.segments = this.table.segments;
    this.segmentCount = this.table.count;
    this.fields = Object.freeze({ ptdpaddr: this.ptdpaddr, nmemsegs });
  }

  pa2off(pa: bigint): number {
    return libkvmPa2off(this.table, pa, this.segmentEndRule);
  }

  kvatop(ctx: WalkContext, va: bigint): Promise<Translation> {
    return amd64Kvatop(ctx, this.ptdpaddr, va);
  }
}

export const amd64: MachineModule = Object.freeze({
  name: 'amd64',
  mid: MID.X86_64,
  alignBytes: 7,
  littleEndian: LITTLE_ENDIAN,
  longSize: 8,
  pageSize: 4096,
  elfClass: 64,
  elfMachines: Object.freeze([62]), // EM_X86_64
  open: (cpuData: Uint8Array): MachineState => new Amd64State(cpuData),
});
