// The per-architecture contract: parse the CPU header a kernel wrote, map physical addresses to
// dump offsets (pa2off) and walk page tables (kvatop). One module per architecture implements it;
// adding arm, sparc64 or riscv means one new module plus its registration in ./index.ts.

import type { PhysRamSeg } from '../format/kcore.ts';
import type { EntryFlags } from '../layers/types.ts';
import type { SegmentEndRule } from '../layers/segments.ts';

/** The names users see; 'i386pae' is i386 (MID_I386) with the PAE bit in pdppaddr. */
export type MachineName = 'amd64' | 'i386' | 'i386pae' | 'aarch64';

/** What a page-table walk may do: libkvm's primitives, bound to one handle. */
export interface WalkContext {
  /**
   * One table entry: `_kvm_pread(pmfd, &e, size, _kvm_pa2off(pa))` decoded in the machine's byte
   * order. null when fewer than `size` bytes came back (the handle's errno then says why).
   */
  readEntry(pa: bigint, size: 4 | 8): Promise<bigint | null>;
  /** `_kvm_err(kd, 0, msg)`: errbuf = msg. */
  err(msg: string): void;
  /** `_kvm_syserr(kd, 0, msg)`: errbuf = msg + ": " + strerror(errno). */
  syserr(msg: string): void;
  /**
   * Told of every table entry the walk consults, before it is read (entry undefined) and again
   * once read. libkvm ignores it; the strict virtual layer records the walk with it.
   */
  visit?(step: VisitedEntry): void;
}

/** One table entry a walk consults: where it is, and (once read) what it holds. */
export interface VisitedEntry {
  /** The architecture's level number (amd64 4..1, i386 2..1, i386-PAE 2..1, aarch64 0..3). */
  level: number;
  /** The architecture's name for the entry: 'PML4E', 'PDPTE', 'PDE', 'PTE', 'L0'…'L3'. */
  name: string;
  tableAddress: bigint;
  index: number;
  entryAddress: bigint;
  /** Bytes of VA one entry at this level maps. */
  span: bigint;
  entry?: bigint;
  flags?: EntryFlags;
}

/** `_kvm_kvatop` result: cc bytes are valid from pa (to the end of the page); cc 0 = failure, pa all ones. */
export interface Translation {
  cc: number;
  pa: bigint;
}

export const TRANSLATION_FAILED: Translation = Object.freeze({ cc: 0, pa: 0xffffffffffffffffn });

/** A CPU header parsed for one handle (state is per handle, never process-wide: spec 9.11). */
export interface MachineState {
  /** Flavour actually in effect (i386 vs i386pae is decided by the header's PAE bit). */
  readonly name: MachineName;
  /**
   * The phys_ram_seg_t entries pa2off walks, in header order — at most MAX_DECODED_SEGMENTS of
   * them; segmentCount says how many the table really has (more only in a corrupt header).
   */
  readonly segments: readonly PhysRamSeg[];
  readonly segmentCount: number;
  /** How this architecture's C computes a segment's end (spec 5.1). */
  readonly segmentEndRule: SegmentEndRule;
  /** Header fields worth showing (ptdpaddr, pdppaddr, tcr1, ttbr1, nmemsegs, …), raw values. */
  readonly fields: Readonly<Record<string, bigint>>;
  /**
   * `_kvm_pa2off` minus kd->dump_off: the offset of pa inside the memory data, with NetBSD's
   * behaviour for addresses in no segment (x86/aarch64: the total size of all segments).
   */
  pa2off(pa: bigint): number;
  /** `_kvm_kvatop` for a crash dump (spec section 5). */
  kvatop(ctx: WalkContext, va: bigint): Promise<Translation>;
}

export interface MachineModule {
  /** The MID-level name: 'amd64', 'i386' (covers i386pae) or 'aarch64'. */
  readonly name: MachineName;
  /** MID_MACHINE: the value libkvm compiled for this architecture compares against. */
  readonly mid: number;
  /** __ALIGNBYTES (spec 2.5). */
  readonly alignBytes: number;
  readonly littleEndian: boolean;
  /** sizeof(u_long) / sizeof(long): kvm_dump_inval's write size, msgbuf layout. */
  readonly longSize: 4 | 8;
  readonly pageSize: number;
  /** ELF class and e_machine values nlist accepts for this architecture (spec 6.1). */
  readonly elfClass: 32 | 64;
  readonly elfMachines: readonly number[];
  /**
   * Parse the CPU data (format A offset ALIGN(8) .. H, or format B's CPU segment). Never throws:
   * short or odd data yields what C would compute from it (missing bytes read as zero).
   */
  open(cpuData: Uint8Array): MachineState;
}
