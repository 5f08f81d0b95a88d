// i386 (kvm_i386.c, spec 3.2, 5.1, 5.3): 8-byte CPU header {pdppaddr u32, nmemsegs u32},
// segments at ALIGN(8) = 8, a 2-level walk with 4 MiB pages, or the PAE walk (i386pae.ts) when
// pdppaddr carries I386_KCORE_PAE.

import { MID } from '../format/mids.ts';
import type { PhysRamSeg } from '../format/kcore.ts';
import {
  TRANSLATION_FAILED,
  type MachineModule,
  type MachineState,
  type Translation,
  type WalkContext,
} from './machine.ts';
import { readCpuWord, u32 } from './cpu-data.ts';
import { I386_KCORE_PAE, i386PaeKvatop } from './i386pae.ts';
import { readPresentEntry, translated } from './walk-step.ts';
import { decodeCountedSegments, type SegmentTable } from './x86-segments.ts';
import { x86Flags } from './entry-flags.ts';
import { libkvmPa2off } from '../layers/segments.ts';

const LITTLE_ENDIAN = true;
const SEGMENTS_OFFSET = 8; // ALIGN(sizeof(cpu_kcore_hdr_t)) with ALIGNBYTES 3

const PG_PS = 0x80n;
const FRAME_4K = 0xfffff000n;
const FRAME_4M = 0xffc00000n;
const SIZE_4K = 0x1000n;
const SIZE_4M = 0x400000n;

const PDE = { level: 2, name: 'PDE', size: 4, span: SIZE_4M, flags: (e: bigint) => x86Flags(e, { psLevel: true, nx: false }) } as const;
const PTE = { level: 1, name: 'PTE', size: 4, span: SIZE_4K, flags: (e: bigint) => x86Flags(e, { psLevel: false, nx: false }) } as const;

/** _kvm_kvatop without PAE (spec 5.3). va is a 32-bit vaddr_t. */
export async function i386Kvatop(ctx: WalkContext, pdppaddr: bigint, vaIn: bigint): Promise<Translation> {
  const va = u32(vaIn);
  const pde = await readPresentEntry(ctx, { ...PDE, tableAddress: pdppaddr & FRAME_4K, index: (va >> 22n) & 0x3ffn }, {
    readFailed: 'could not read PDE',
    notPresent: 'invalid translation (invalid PDE)',
  });
  if (pde === null) return TRANSLATION_FAILED;
  if (pde & PG_PS) {
    // 0xffc00000 also drops the PAT bit 12 and any PSE-36 high-address bits.
    const off = va & (SIZE_4M - 1n);
    return translated((pde & FRAME_4M) + off, SIZE_4M - off);
  }

  // Bit 7 of a PTE is PAT, not PS.
  const pte = await readPresentEntry(ctx, { ...PTE, tableAddress: pde & FRAME_4K, index: (va >> 12n) & 0x3ffn }, {
    readFailed: 'could not read PTE',
    notPresent: 'invalid translation (invalid PTE)',
  });
  if (pte === null) return TRANSLATION_FAILED;
  const off = va & (SIZE_4K - 1n);
  return translated((pte & FRAME_4K) + off, SIZE_4K - off);
}

/** Whether a header's pdppaddr selects the PAE walk (spec 5.3/5.4). */
export function isPaeHeader(pdppaddr: bigint): boolean {
  return (pdppaddr & I386_KCORE_PAE) !== 0n;
}

class I386State implements MachineState {
  readonly name: 'i386' | 'i386pae';
  readonly segments: readonly PhysRamSeg[];
  readonly segmentCount: number;
  private readonly table: SegmentTable;
  readonly segmentEndRule = 'x86' as const;
  readonly fields: Readonly<Record<string, bigint>>;
  private readonly pdppaddr: bigint;

  constructor(cpuData: Uint8Array) {
    this.pdppaddr = readCpuWord(cpuData, 0, 4, LITTLE_ENDIAN);
    const nmemsegs = readCpuWord(cpuData, 4, 4, LITTLE_ENDIAN);
    this.table = decodeCountedSegments(cpuData, SEGMENTS_OFFSET, nmemsegs, LITTLE_ENDIAN);
    this.segments = this.table.segments;
    this.segmentCount = this.table.count;
    this.fields = Object.freeze({ pdppaddr: this.pdppaddr, nmemsegs });
    // Spec 9.11: C keeps this choice in a process-wide static (last _kvm_initvtop wins). The
    // interface requires per-handle state, so each handle keeps its own walk.
    this.name = isPaeHeader(this.pdppaddr) ? 'i386pae' : 'i386';
  }

  pa2off(pa: bigint): number {
    return libkvmPa2off(this.table, pa, this.segmentEndRule);
  }

  kvatop(ctx: WalkContext, va: bigint): Promise<Translation> {
    return this.name === 'i386pae' ? i386PaeKvatop(ctx, this.pdppaddr, va) : i386Kvatop(ctx, this.pdppaddr, va);
  }
}

export const i386: MachineModule = Object.freeze({
  name: 'i386',
  mid: MID.I386,
  alignBytes: 3,
  littleEndian: LITTLE_ENDIAN,
  longSize: 4,
  pageSize: 4096,
  elfClass: 32,
  elfMachines: Object.freeze([3]), // EM_386
  open: (cpuData: Uint8Array): MachineState => new I386State(cpuData),
});
