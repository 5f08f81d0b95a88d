// ELF kernel images: header parsing, the section header table and symbol table (shared with
// NetBSD's nlist(3) in nlist.ts), the symbol listing for the UI, and reads of initialised data at a
// virtual address through PT_LOAD program headers.
//
// Only the ELF header, the section header table, the symbol table and its string table are read:
// never the whole file. Fields are decoded in the byte order EI_DATA names: we model a reader
// running on the crashed machine, whose host order is the kernel's (spec 6.3 step 3 reads "host
// order" and does not check EI_DATA).

import type { Result } from '../result.ts';
import { preadFully, type DumpSource } from '../source.ts';
import { utf8Decode } from './utf8.ts';

export const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46] as const;
export const ELFCLASS32 = 1;
export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const ELFDATA2MSB = 2;

export const EM_386 = 3;
export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;

export const ET_EXEC = 2;
export const PT_LOAD = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_NOBITS = 8;
export const SHN_UNDEF = 0;
export const SHN_ABS = 0xfff1;

export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STT_FILE = 4;
export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;

export type ElfClass = 32 | 64;

/** Sizes of the fixed records, by class. */
const LAYOUT = {
  32: { ehdr: 52, phdr: 32, shdr: 40, sym: 16 },
  64: { ehdr: 64, phdr: 56, shdr: 64, sym: 24 },
} as const;

export interface ElfHeader {
  elfClass: ElfClass;
  /** Raw EI_DATA; anything but ELFDATA2MSB is decoded little-endian. */
  data: number;
  littleEndian: boolean;
  type: number;
  machine: number;
  entry: bigint;
  phoff: number;
  phentsize: number;
  phnum: number;
  shoff: number;
  shentsize: number;
  shnum: number;
  shstrndx: number;
}

export type ElfHeaderResult = { ok: true; header: ElfHeader } | { ok: false; reason: string };

/** A 64-bit file field as a JS number; values past 2^53 stay huge so range checks still fail. */
function toOffset(v: bigint): number {
  return Number(v);
}

function dataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Read `length` bytes at `offset`; null when the file is shorter. */
async function readExact(src: DumpSource, offset: number, length: number): Promise<Uint8Array | null> {
  const buf = new Uint8Array(length);
  if (length === 0) return buf;
  const n = await preadFully(src, buf, offset);
  return n === length ? buf : null;
}

function hasElfMagic(b: Uint8Array): boolean {
  return b.length >= 4 && ELF_MAGIC.every((m, i) => b[i] === m);
}

/** Parse the ELF header (ELF32 or ELF64, either byte order). */
export async function readElfHeader(src: DumpSource): Promise<ElfHeaderResult> {
  const buf = new Uint8Array(LAYOUT[64].ehdr);
  const got = await preadFully(src, buf, 0);
  if (!hasElfMagic(buf.subarray(0, got))) return { ok: false, reason: 'not an ELF file' };
  if (got < 16) return { ok: false, reason: `truncated ELF header (${got} bytes)` };
  const cls = buf[4];
  if (cls !== ELFCLASS32 && cls !== ELFCLASS64) return { ok: false, reason: `bad ELF class ${cls}` };
  const elfClass: ElfClass = cls === ELFCLASS32 ? 32 : 64;
  const need = LAYOUT[elfClass].ehdr;
  if (got < need) return { ok: false, reason: `truncated ELF header (${got} of ${need} bytes)` };
  const data = buf[5];
  const le = data !== ELFDATA2MSB;
  const dv = dataView(buf);
  // The word-sized fields differ by class; the 16-bit ones start at e_ehsize (after e_flags).
  const words =
    elfClass === 32
      ? { entry: BigInt(dv.getUint32(24, le)), phoff: dv.getUint32(28, le), shoff: dv.getUint32(32, le), ehsizeAt: 40 }
      : {
          entry: dv.getBigUint64(24, le),
          phoff: toOffset(dv.getBigUint64(32, le)),
          shoff: toOffset(dv.getBigUint64(40, le)),
          ehsizeAt: 52,
        };
  const at = words.ehsizeAt;
  return {
    ok: true,
    header: {
      elfClass,
      data,
      littleEndian: le,
      type: dv.getUint16(16, le),
      machine: dv.getUint16(18, le),
      entry: words.entry,
      phoff: words.phoff,
      phentsize: dv.getUint16(at + 2, le),
      phnum: dv.getUint16(at + 4, le),
      shoff: words.shoff,
      shentsize: dv.getUint16(at + 6, le),
      shnum: dv.getUint16(at + 8, le),
      shstrndx: dv.getUint16(at + 10, le),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Section headers and the symbol table (also read by nlist.ts)

interface SectionHeader {
  name: number;
  type: number;
  offset: number;
  size: number;
  link: number;
  info: number;
}

function parseSectionHeader(dv: DataView, off: number, h: ElfHeader): SectionHeader {
  const le = h.littleEndian;
  if (h.elfClass === 32) {
    return {
      name: dv.getUint32(off, le),
      type: dv.getUint32(off + 4, le),
      offset: dv.getUint32(off + 16, le),
      size: dv.getUint32(off + 20, le),
      link: dv.getUint32(off + 24, le),
      info: dv.getUint32(off + 28, le),
    };
  }
  return {
    name: dv.getUint32(off, le),
    type: dv.getUint32(off + 4, le),
    offset: toOffset(dv.getBigUint64(off + 24, le)),
    size: toOffset(dv.getBigUint64(off + 32, le)),
    link: dv.getUint32(off + 40, le),
    info: dv.getUint32(off + 44, le),
  };
}

/** The symbol table and its string table, loaded. */
export interface SymbolTable {
  header: ElfHeader;
  symtab: DataView;
  strtab: Uint8Array;
  symentsize: number;
  nsyms: number;
}

type Located<T> = Result<T>;

function extendsPastEof(offset: number, size: number, fileSize: number): boolean {
  return offset + size > fileSize;
}

/** Section header table checks and the last SHT_SYMTAB (spec 6.3 steps 6–8). */
export async function loadSymbolTable(src: DumpSource, h: ElfHeader): Promise<Located<SymbolTable>> {
  const sizes = LAYOUT[h.elfClass];
  if (h.shentsize !== sizes.shdr) {
    return { ok: false, reason: `e_shentsize ${h.shentsize} != ${sizes.shdr}` };
  }
  const tableSize = h.shnum * h.shentsize;
  if (extendsPastEof(h.shoff, tableSize, src.size)) {
    return { ok: false, reason: `section header table extends past end of file (offset ${h.shoff})` };
  }
  const table = await readExact(src, h.shoff, tableSize);
  if (!table) return { ok: false, reason: `short read of section header table (offset ${h.shoff})` };
  const dv = dataView(table);

  // The last SYMTAB wins: the C loop overwrites its choice for every SYMTAB it meets (6.3 step 7).
  let symtab: SectionHeader | undefined;
  for (let i = 0; i < h.shnum; i++) {
    const sh = parseSectionHeader(dv, i * sizes.shdr, h);
    if (sh.type === SHT_SYMTAB) symtab = sh;
  }
  if (!symtab) return { ok: false, reason: 'stripped (no SYMTAB)' };
  if (symtab.offset === 0) return { ok: false, reason: 'stripped (SYMTAB sh_offset 0)' };
  // C indexes the table with sh_link unchecked (undefined behaviour past the end): refuse instead.
  if (symtab.link >= h.shnum) {
    return { ok: false, reason: `SYMTAB sh_link ${symtab.link} >= e_shnum ${h.shnum}` };
  }
  const strtab = parseSectionHeader(dv, symtab.link * sizes.shdr, h);
  if (extendsPastEof(symtab.offset, symtab.size, src.size)) {
    return { ok: false, reason: `SYMTAB extends past end of file (offset ${symtab.offset}, size ${symtab.size})` };
  }
  if (extendsPastEof(strtab.offset, strtab.size, src.size)) {
    return {
      ok: false,
      reason: `string table extends past end of file (offset ${strtab.offset}, size ${strtab.size})`,
    };
  }
  const symBytes = await readExact(src, symtab.offset, symtab.size);
  const strBytes = await readExact(src, strtab.offset, strtab.size);
  if (!symBytes || !strBytes) return { ok: false, reason: 'short read of SYMTAB or its string table' };
  return {
    ok: true,
    value: {
      header: h,
      symtab: dataView(symBytes),
      strtab: strBytes,
      symentsize: sizes.sym,
      nsyms: Math.floor(symtab.size / sizes.sym),
    },
  };
}

/** Byte offset of symbol i's st_name, st_info, st_shndx, st_value, st_size fields. */
export function symFieldOffsets(cls: ElfClass) {
  return cls === 32
    ? { name: 0, value: 4, size: 8, info: 12, shndx: 14 }
    : { name: 0, info: 4, shndx: 6, value: 8, size: 16 };
}

export function readWord(dv: DataView, off: number, cls: ElfClass, le: boolean): bigint {
  return cls === 32 ? BigInt(dv.getUint32(off, le)) : dv.getBigUint64(off, le);
}

// ---------------------------------------------------------------------------------------------
// Symbol listing (for the UI's symbol search)

export interface ElfSymbol {
  /** Index in the symbol table. */
  index: number;
  name: string;
  value: bigint;
  size: bigint;
  /** STT_* */
  type: number;
  /** STB_* */
  bind: number;
  shndx: number;
}

/** Why an ELF file cannot be used (the same texts NlistResult.reason carries). */
export class ElfFormatError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'ElfFormatError';
  }
}

function nameAt(strtab: Uint8Array, off: number): string {
  if (off >= strtab.length) return '';
  let end = strtab.indexOf(0, off);
  if (end < 0) end = strtab.length;
  return utf8Decode(strtab.subarray(off, end));
}

/**
 * Every named symbol of the last SYMTAB, in file order. Throws ElfFormatError when the file is
 * not a usable ELF file (machine is not checked: any ELF kernel can be browsed).
 */
export async function listSymbols(
  src: DumpSource,
  opts: { includeUnnamed?: boolean } = {},
): Promise<ElfSymbol[]> {
  const parsed = await readElfHeader(src);
  if (!parsed.ok) throw new ElfFormatError(parsed.reason);
  const table = await loadSymbolTable(src, parsed.header);
  if (!table.ok) throw new ElfFormatError(table.reason);
  const { symtab, strtab, symentsize, nsyms, header } = table.value;
  const { elfClass: cls, littleEndian: le } = header;
  const f = symFieldOffsets(cls);
  const out: ElfSymbol[] = [];
  for (let i = 0; i < nsyms; i++) {
    const base = i * symentsize;
    const name = nameAt(strtab, symtab.getUint32(base + f.name, le));
    if (!name && !opts.includeUnnamed) continue;
    const info = symtab.getUint8(base + f.info);
    out.push({
      index: i,
      name,
      value: readWord(symtab, base + f.value, cls, le),
      size: readWord(symtab, base + f.size, cls, le),
      type: info & 0xf,
      bind: info >> 4,
      shndx: symtab.getUint16(base + f.shndx, le),
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Virtual addresses through PT_LOAD

export interface LoadSegment {
  offset: number;
  vaddr: bigint;
  paddr: bigint;
  filesz: bigint;
  memsz: bigint;
  flags: number;
}

/** The PT_LOAD program headers; [] when the table is missing, malformed or outside the file. */
export async function readLoadSegments(src: DumpSource, h?: ElfHeader): Promise<LoadSegment[]> {
  if (!h) {
    const parsed = await readElfHeader(src);
    if (!parsed.ok) return [];
    h = parsed.header;
  }
  const size = LAYOUT[h.elfClass].phdr;
  if (h.phnum === 0 || h.phentsize !== size) return [];
  const table = await readExact(src, h.phoff, h.phnum * size);
  if (!table) return [];
  const dv = dataView(table);
  const le = h.littleEndian;
  const out: LoadSegment[] = [];
  for (let i = 0; i < h.phnum; i++) {
    const o = i * size;
    if (dv.getUint32(o, le) !== PT_LOAD) continue;
    out.push(
      h.elfClass === 32
        ? {
            offset: dv.getUint32(o + 4, le),
            vaddr: BigInt(dv.getUint32(o + 8, le)),
            paddr: BigInt(dv.getUint32(o + 12, le)),
            filesz: BigInt(dv.getUint32(o + 16, le)),
            memsz: BigInt(dv.getUint32(o + 20, le)),
            flags: dv.getUint32(o + 24, le),
          }
        : {
            flags: dv.getUint32(o + 4, le),
            offset: toOffset(dv.getBigUint64(o + 8, le)),
            vaddr: dv.getBigUint64(o + 16, le),
            paddr: dv.getBigUint64(o + 24, le),
            filesz: dv.getBigUint64(o + 32, le),
            memsz: dv.getBigUint64(o + 40, le),
          },
    );
  }
  return out;
}

/** The file offset holding the byte at va (inside some p_vaddr..p_vaddr+p_filesz), or null. */
export async function elfVaToFileOffset(src: DumpSource, va: bigint): Promise<number | null> {
  for (const seg of await readLoadSegments(src)) {
    if (va >= seg.vaddr && va < seg.vaddr + seg.filesz) return seg.offset + Number(va - seg.vaddr);
  }
  return null;
}

/**
 * `length` bytes of the loaded image at va, as the kernel starts with them: file bytes for
 * p_filesz, zeros up to p_memsz (bss). null when any byte lies in no PT_LOAD or the file is short.
 */
export async function readElfVirtual(src: DumpSource, va: bigint, length: number): Promise<Uint8Array | null> {
  const segments = await readLoadSegments(src);
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const at = va + BigInt(done);
    const seg = segments.find((s) => at >= s.vaddr && at < s.vaddr + s.memsz);
    if (!seg) return null;
    const inSeg = at - seg.vaddr;
    const chunk = Math.min(length - done, Number(seg.memsz - inSeg));
    const fromFile = Math.max(0, Math.min(chunk, Number(seg.filesz - inSeg)));
    if (fromFile > 0) {
      const bytes = await readExact(src, seg.offset + Number(inSeg), fromFile);
      if (!bytes) return null;
      out.set(bytes, done);
    }
    done += chunk; // the rest of the chunk stays zero: bss
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Named sections (for the DWARF reader: .debug_info and friends)

export interface ElfSection {
  name: string;
  type: number;
  offset: number;
  size: number;
}

/** Every section with its name; throws ElfFormatError when the section table is unusable. */
export async function listSections(src: DumpSource, h?: ElfHeader): Promise<ElfSection[]> {
  if (!h) {
    const parsed = await readElfHeader(src);
    if (!parsed.ok) throw new ElfFormatError(parsed.reason);
    h = parsed.header;
  }
  const sizes = LAYOUT[h.elfClass];
  if (h.shnum === 0) return [];
  if (h.shentsize !== sizes.shdr) throw new ElfFormatError(`e_shentsize ${h.shentsize} != ${sizes.shdr}`);
  const table = await readExact(src, h.shoff, h.shnum * sizes.shdr);
  if (!table) throw new ElfFormatError(`section header table extends past end of file (offset ${h.shoff})`);
  const dv = dataView(table);
  const headers = Array.from({ length: h.shnum }, (_, i) => parseSectionHeader(dv, i * sizes.shdr, h));
  const names = headers[h.shstrndx];
  let strings: Uint8Array = new Uint8Array(0);
  if (names && names.type !== SHT_NOBITS && !extendsPastEof(names.offset, names.size, src.size)) {
    strings = (await readExact(src, names.offset, names.size)) ?? strings;
  }
  return headers.map((sh) => ({ name: nameAt(strings, sh.name), type: sh.type, offset: sh.offset, size: sh.size }));
}

/** The bytes of a section by name; null when absent or SHT_NOBITS; throws when outside the file. */
export async function readSection(src: DumpSource, sections: readonly ElfSection[], name: string): Promise<Uint8Array | null> {
  const sh = sections.find((s) => s.name === name);
  if (!sh || sh.type === SHT_NOBITS) return null;
  if (extendsPastEof(sh.offset, sh.size, src.size)) {
    throw new ElfFormatError(`section ${name} extends past end of file (offset ${sh.offset}, size ${sh.size})`);
  }
  const bytes = await readExact(src, sh.offset, sh.size);
  if (!bytes) throw new ElfFormatError(`short read of section ${name} (offset ${sh.offset})`);
  return bytes;
}
