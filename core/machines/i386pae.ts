// i386 with PAE (kvm_i386pae.c 1.3, spec 5.4): 8-byte entries; the L3 (PDPT) level is skipped
// because the four L2 directory pages are contiguous, so one 2048-entry index covers VA 31..21.

import { TRANSLATION_FAILED, type Translation, type WalkContext } from './machine.ts';
import { u32 } from './cpu-data.ts';
import { readPresentEntry, translated } from './walk-step.ts';
import { x86Flags } from './entry-flags.ts';

/** I386_KCORE_PAE: PTE_AVL1, ORed into pdppaddr by a PAE kernel (spec 3.2). */
export const I386_KCORE_PAE = 0x200n;

const PG_PS = 0x80n;
/** Frames are bits 51..12 / 51..21: NX (bit 63) and reserved high bits drop out. */
const FRAME_4K = 0x000ffffffffff000n;
const FRAME_2M = 0x000fffffffe00000n;
const SIZE_4K = 0x1000n;
const SIZE_2M = 0x200000n;

// The four directory pages are one 2048-entry table at level 2 (the PDPT itself is never read).
const PDE = { level: 2, name: 'PDE', size: 8, span: SIZE_2M, flags: (e: bigint) => x86Flags(e, { psLevel: true, nx: true }) } as const;
const PTE = { level: 1, name: 'PTE', size: 8, span: SIZE_4K, flags: (e: bigint) => x86Flags(e, { psLevel: false, nx: true }) } as const;

/** _kvm_kvatop for a PAE kernel. va is a 32-bit vaddr_t. */
export async function i386PaeKvatop(ctx: WalkContext, pdppaddr: bigint, vaIn: bigint): Promise<Translation> {
  const va = u32(vaIn);
  // Masking with the frame drops the PAE flag bit 0x200 from pdppaddr.
  const pde = await readPresentEntry(ctx, { ...PDE, tableAddress: pdppaddr & FRAME_4K, index: (va >> 21n) & 0x7ffn }, {
    readFailed: 'could not read PDE',
    notPresent: 'invalid translation (invalid PDE)',
  });
  if (pde === null) return TRANSLATION_FAILED;
  if (pde & PG_PS) {
    const off = va & (SIZE_2M - 1n);
    return translated((pde & FRAME_2M) + off, SIZE_2M - off);
  }

  // Bit 7 of a PTE is PAT, not PS.
  const pte = await readPresentEntry(ctx, { ...PTE, tableAddress: pde & FRAME_4K, index: (va >> 12n) & 0x1ffn }, {
    readFailed: 'could not read PTE',
    notPresent: 'invalid translation (invalid PTE)',
  });
  if (pte === null) return TRANSLATION_FAILED;
  const off = va & (SIZE_4K - 1n);
  return translated((pte & FRAME_4K) + off, SIZE_4K - off);
}
