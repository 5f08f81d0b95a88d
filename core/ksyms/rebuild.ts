// savecore's first choice for netbsd.N (spec 7.7, save_ksyms): rebuild a symbols-only kernel image
// from the dump's own ksyms state — the ksyms_hdr ELF headers with the symbol and string table
// sizes patched in, then every table's symbols, then every table's strings. It is the kernel that
// actually crashed, so it beats any -N file. Any read that fails sends savecore to its fallback
// (copying -N); a write that fails is fatal, as in savecore.

import { ByteView } from '../format/bytes.ts';
import type { DumpView } from '../layers/dump-view.ts';
import type { MachineModule } from '../machines/machine.ts';
import type { CancelSignal } from '../source.ts';

/** The dump-kernel symbols save_ksyms reads, without their leading underscore. */
export const KSYMS_SYMBOLS = ['ksyms_hdr', 'ksyms_symsz', 'ksyms_strsz', 'ksyms_symtabs'] as const;
export type KsymsAddresses = Record<(typeof KSYMS_SYMBOLS)[number], bigint>;

/** sys/sys/ksyms.h: section indices in struct ksyms_hdr and the table counts. */
const SYMTAB = 2;
const STRTAB = 3;
const NSECHDR = 7;
const NPRGHDR = 1;
const SHSTRSIZ = 64;
const NOTE_BYTES = 6 * 4;

/** Sizes and offsets of the C structures save_ksyms reads, for the dumped machine's ABI. */
export interface KsymsLayout {
  elf64: boolean;
  littleEndian: boolean;
  pointerSize: 4 | 8;
  /** sizeof(struct ksyms_hdr) and where its section headers start. */
  hdrSize: number;
  shdrOffset: number;
  shdrSize: number;
  elfSymSize: number;
  /** sizeof(struct ksyms_symtab) as savecore (not _KERNEL) sees it, and its fields' offsets. */
  symtabSize: number;
  sdNext: number;
  sdSymstart: number;
  sdStrstart: number;
  sdSymsize: number;
  sdStrsize: number;
}

export function ksymsLayout(m: Pick<MachineModule, 'elfClass' | 'littleEndian' | 'longSize'>): KsymsLayout {
  const elf64 = m.elfClass === 64;
  const ehdr = elf64 ? 64 : 52;
  const phdr = elf64 ? 56 : 32;
  const shdr = elf64 ? 64 : 40;
  const p = m.longSize;
  // struct ksyms_symtab: TAILQ_ENTRY (2 pointers), sd_name, sd_symstart, sd_minsym, sd_maxsym,
  // sd_strstart (pointers), then ints sd_usroffset, sd_symsize, sd_strsize, sd_nglob, bool sd_gone,
  // sd_ctfstart (pointer), int sd_ctfsize, sd_nmap (pointer), int sd_nmapsize.
  const sdStrstart = 6 * p;
  const afterInts = sdStrstart + p + 4 * 4 + 1;
  const sdCtfstart = alignUp(afterInts, p);
  const sdNmap = alignUp(sdCtfstart + p + 4, p);
  return {
    elf64,
    littleEndian: m.littleEndian,
    pointerSize: p,
    hdrSize: ehdr + NPRGHDR * phdr + NSECHDR * shdr + SHSTRSIZ + NOTE_BYTES,
    shdrOffset: ehdr + NPRGHDR * phdr,
    shdrSize: shdr,
    elfSymSize: elf64 ? 24 : 16,
    symtabSize: alignUp(sdNmap + p + 4, p),
    sdNext: 0,
    sdSymstart: 3 * p,
    sdStrstart,
    sdSymsize: sdStrstart + p + 4,
    sdStrsize: sdStrstart + p + 8,
  };
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

export type KsymsOutcome =
  | { ok: true; bytes: number; tables: number }
  /** Fall back to copying -N; `warning` is what savecore logs first (null: it logs nothing). */
  | { ok: false; warning: string | null; reason: string };

/** Where a rebuilt image goes; a rejected promise is a write failure (fatal for the caller). */
export type KsymsWrite = (chunk: Uint8Array) => Promise<void>;

/** A corrupt dump can make the table list circular, which would loop savecore forever. */
export const MAX_KSYMS_TABLES = 65536;
const READ_CHUNK = 1 << 20;

/**
 * save_ksyms: the ELF headers from ksyms_hdr with SYMTAB's sh_size/sh_info and STRTAB's
 * sh_offset/sh_size patched (C integer conversions kept: sizes are ints widened to Elf_Off/
 * Elf_Xword), then the symbol bytes of each table on ksyms_symtabs, then the string bytes of each.
 */
export async function writeKsymsKernel(view: DumpView, at: KsymsAddresses, write: KsymsWrite, signal?: CancelSignal): Promise<KsymsOutcome> {
  const m = view.module;
  if (!m) return { ok: false, warning: null, reason: 'no valid dump header' };
  const L = ksymsLayout(m);
  const get = async (va: bigint, size: number): Promise<Uint8Array | { warning: string }> => {
    // Strict: the rebuilt image holds the dump's memory or nothing (never bytes from past the memory data).
    const got = await view.virtual.read(va, size);
    return got.faults.length === 0 ? got.data : { warning: `kvm_read: ${got.faults[0].reason}` };
  };
  const fail = (w: { warning: string } | null, reason: string): KsymsOutcome => ({ ok: false, warning: w?.warning ?? null, reason });

  const hdr = await get(at.ksyms_hdr, L.hdrSize);
  if (!(hdr instanceof Uint8Array)) return fail(hdr, 'ksyms_hdr could not be read');
  const symszBytes = await get(at.ksyms_symsz, 4);
  if (!(symszBytes instanceof Uint8Array)) return fail(symszBytes, 'ksyms_symsz could not be read');
  const strszBytes = await get(at.ksyms_strsz, 4);
  if (!(strszBytes instanceof Uint8Array)) return fail(strszBytes, 'ksyms_strsz could not be read');
  const symsz = new ByteView(symszBytes, L.littleEndian).i32(0);
  const strsz = new ByteView(strszBytes, L.littleEndian).i32(0);
  if (symsz === 0 || strsz === 0) return fail(null, `ksyms was not in use (ksyms_symsz ${symsz}, ksyms_strsz ${strsz})`);

  patchHeader(hdr, L, symsz, strsz);
  await write(hdr);
  let bytes = hdr.length;

  // Two walks of the list, as savecore makes: all symbol tables, then all string tables.
  let tables = 0;
  for (const part of ['symbols', 'strings'] as const) {
    const head = await get(at.ksyms_symtabs, 2 * L.pointerSize);
    if (!(head instanceof Uint8Array)) return fail(head, 'ksyms_symtabs could not be read');
    let next = pointerAt(head, 0, L);
    const seen = new Set<bigint>();
    tables = 0;
    while (next !== 0n) {
      signal?.throwIfAborted();
      if (seen.has(next) || tables >= MAX_KSYMS_TABLES) {
        return fail({ warning: `ksyms_symtabs: the table list does not end (table at 0x${next.toString(16)} again or over ${MAX_KSYMS_TABLES} tables)` }, 'circular ksyms table list');
      }
      seen.add(next);
      const st = await get(next, L.symtabSize);
      if (!(st instanceof Uint8Array)) return fail(st, `ksyms table at 0x${next.toString(16)} could not be read`);
      tables++;
      next = pointerAt(st, L.sdNext, L);
      const v = new ByteView(st, L.littleEndian);
      const symsize = v.i32(L.sdSymsize);
      // savecore mallocs sd_symsize bytes for both parts: a negative size fails there, silently.
      if (symsize < 0) return fail(null, `ksyms table has a negative sd_symsize (${symsize})`);
      const start = pointerAt(st, part === 'symbols' ? L.sdSymstart : L.sdStrstart, L);
      const size = part === 'symbols' ? symsize : v.i32(L.sdStrsize);
      if (size < 0) return fail({ warning: `ksyms table at 0x${start.toString(16)}: negative sd_strsize (${size})` }, 'negative sd_strsize');
      for (let off = 0; off < size; off += READ_CHUNK) {
        const chunk = await get(start + BigInt(off), Math.min(READ_CHUNK, size - off));
        if (!(chunk instanceof Uint8Array)) return fail(chunk, `ksyms ${part} at 0x${(start + BigInt(off)).toString(16)} could not be read`);
        await write(chunk);
        bytes += chunk.length;
      }
    }
  }
  return { ok: true, bytes, tables };
}

function pointerAt(b: Uint8Array, off: number, L: KsymsLayout): bigint {
  const v = new ByteView(b, L.littleEndian);
  return L.pointerSize === 8 ? v.u64(off) : BigInt(v.u32(off));
}

/** The four assignments of save_ksyms, with C's conversions of the int sizes. */
export function patchHeader(hdr: Uint8Array, L: KsymsLayout, symsz: number, strsz: number): void {
  const dv = new DataView(hdr.buffer, hdr.byteOffset, hdr.byteLength);
  const le = L.littleEndian;
  const sh = (i: number) => L.shdrOffset + i * L.shdrSize;
  const bits = L.elf64 ? 64 : 32;
  const word = (n: bigint) => BigInt.asUintN(bits, n);
  // symsz / sizeof(Elf_Sym): the int becomes a size_t (pointer-sized) before the division.
  const info = BigInt.asUintN(32, BigInt.asUintN(L.pointerSize * 8, BigInt(symsz)) / BigInt(L.elfSymSize));
  if (L.elf64) {
    const symtabOffset = dv.getBigUint64(sh(SYMTAB) + 24, le);
    dv.setBigUint64(sh(SYMTAB) + 32, word(BigInt(symsz)), le);
    dv.setUint32(sh(SYMTAB) + 44, Number(info), le);
    dv.setBigUint64(sh(STRTAB) + 24, word(BigInt(symsz) + symtabOffset), le);
    dv.setBigUint64(sh(STRTAB) + 32, word(BigInt(strsz)), le);
  } else {
    const symtabOffset = BigInt(dv.getUint32(sh(SYMTAB) + 16, le));
    dv.setUint32(sh(SYMTAB) + 20, Number(word(BigInt(symsz))), le);
    dv.setUint32(sh(SYMTAB) + 28, Number(info), le);
    dv.setUint32(sh(STRTAB) + 16, Number(word(BigInt(symsz) + symtabOffset)), le);
    dv.setUint32(sh(STRTAB) + 20, Number(word(BigInt(strsz))), le);
  }
}
