// Symbols without a kernel file. On the crashed machine savecore looks symbols up in the running
// kernel (/dev/ksyms); a workstation has no such thing, but the dump holds the crashed kernel's own
// ksyms state. Its kernel table (struct ksyms_symtab, sd_name "netbsd", the first on the
// ksyms_symtabs list) is found by scanning physical memory, its symbols give the addresses of
// ksyms_hdr and friends, and save_ksyms's image rebuilt from them (all tables, modules included)
// serves as the kernel ELF for nlist — the same bytes savecore would write as netbsd.N.

import { ByteView } from '../format/bytes.ts';
import { readExactly } from '../crash/kread.ts';
import type { DumpView } from '../layers/dump-view.ts';
import { MemorySink, type CancelSignal } from '../source.ts';
import { ksymsLayout, writeKsymsKernel, KSYMS_SYMBOLS, type KsymsAddresses, type KsymsLayout } from './rebuild.ts';

export interface KernelSymtab {
  /** Physical address of the struct ksyms_symtab found. */
  pa: bigint;
  symstart: bigint;
  symsize: number;
  strstart: bigint;
  strsize: number;
}

export interface DiscoverOptions {
  signal?: CancelSignal;
  /** Stop after this many bytes of physical memory (an interactive open bounds its wait). */
  limitBytes?: number;
  /** Physical bytes examined so far, of the total. */
  onProgress?(done: number, total: number): void;
}

/** Tables bigger than this are noise, not a kernel's symbols (GENERIC: a few MiB); it also bounds the memory a damaged dump can make us use. */
const MAX_TABLE_BYTES = 64 << 20;
const CHUNK = 1 << 20;
const KERNEL_TABLE_NAME = 'netbsd';
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Scan the dump's memory, in order, for the kernel's struct ksyms_symtab: sizes that fit a symbol
 * table, sd_usroffset 0 (the first table), and — checked through translation — sd_name reading
 * "netbsd", a null first symbol and a string table starting with NUL. First match wins.
 */
export async function findKernelSymtab(view: DumpView, opts: DiscoverOptions = {}): Promise<KernelSymtab | null> {
  const m = view.module;
  const state = view.state;
  if (!m || !state) return null;
  const L = ksymsLayout(m);
  const total = state.segments.reduce((n, s) => n + Number(s.size), 0);
  let done = 0;
  const limit = opts.limitBytes ?? Infinity;
  const sameOrder = L.littleEndian === HOST_LITTLE_ENDIAN;
  for (const seg of state.segments) {
    const size = Number(seg.size);
    for (let at = 0; at < size && done < limit; at += CHUNK) {
      opts.signal?.throwIfAborted();
      const want = Math.min(CHUNK + L.symtabSize, size - at);
      // Strict physical read: faulted bytes (I/O error, end of the dump) are zero, and no
      // candidate can start in zeros (sd_symsize must be a positive size).
      const buf = (await view.physical.read(seg.start + BigInt(at), want)).data;
      const n = buf.length;
      const v = new ByteView(buf, L.littleEndian);
      for (const s of cheapCandidates(buf, n, L, sameOrder)) {
        const c = plausible(v, s, L);
        if (c && (await confirmed(view, c, L))) {
          const { name: _name, ...table } = c;
          return { pa: seg.start + BigInt(at + s), ...table };
        }
      }
      done += Math.min(CHUNK, size - at);
      opts.onProgress?.(done, total);
    }
  }
  return null;
}

/**
 * Struct offsets in buf[0..n) (pointer-aligned, starting in the first CHUNK bytes) whose
 * sd_symsize could be a symbol table's. The hot loop of the search: synchronous and, when the
 * dump's byte order is the host's, on an Int32Array — almost every word is rejected right here.
 */
function cheapCandidates(buf: Uint8Array, n: number, L: KsymsLayout, sameOrder: boolean): number[] {
  const out: number[] = [];
  const last = Math.min(n - L.symtabSize, CHUNK - 1);
  const lo = L.elfSymSize;
  if (sameOrder && buf.byteOffset % 4 === 0) {
    const words = new Int32Array(buf.buffer, buf.byteOffset, n >> 2);
    const at = L.sdSymsize >> 2;
    const step = L.pointerSize >> 2;
    // sd_usroffset (the word before sd_symsize) is 0 and sd_strsize (the word after) is a size.
    for (let w = at, end = (last >> 2) + at; w <= end; w += step) {
      const x = words[w]!;
      if (x <= lo || x > MAX_TABLE_BYTES || x % lo !== 0 || words[w - 1] !== 0) continue;
      const strsize = words[w + 1]!;
      if (strsize > 1 && strsize <= MAX_TABLE_BYTES) out.push((w - at) << 2);
    }
    return out;
  }
  const v = new ByteView(buf.subarray(0, n), L.littleEndian);
  for (let s = 0; s <= last; s += L.pointerSize) {
    const x = v.i32(s + L.sdSymsize);
    if (x > lo && x <= MAX_TABLE_BYTES && x % lo === 0) out.push(s);
  }
  return out;
}

/** The cheap tests, on the bytes alone. */
type Candidate = Omit<KernelSymtab, 'pa'> & { name: bigint };

function plausible(v: ByteView, s: number, L: KsymsLayout): Candidate | null {
  const symsize = v.i32(s + L.sdSymsize);
  if (symsize <= L.elfSymSize || symsize % L.elfSymSize !== 0 || symsize > MAX_TABLE_BYTES) return null;
  const strsize = v.i32(s + L.sdStrsize);
  if (strsize <= 1 || strsize > MAX_TABLE_BYTES) return null;
  if (v.i32(s + L.sdStrstart + L.pointerSize) !== 0) return null; // sd_usroffset: the kernel's table is first
  const ptr = (o: number) => (L.pointerSize === 8 ? v.u64(s + o) : BigInt(v.u32(s + o)));
  const name = ptr(2 * L.pointerSize);
  const symstart = ptr(L.sdSymstart);
  const strstart = ptr(L.sdStrstart);
  if (name === 0n || symstart === 0n || strstart === 0n) return null;
  if (ptr(4 * L.pointerSize) > ptr(5 * L.pointerSize)) return null; // sd_minsym <= sd_maxsym
  return { name, symstart, symsize, strstart, strsize };
}

/** The tests that need translation: the name, the null symbol, the empty first string. */
async function confirmed(view: DumpView, c: Candidate, L: KsymsLayout): Promise<boolean> {
  const name = await readExactly(view, c.name, KERNEL_TABLE_NAME.length + 1, 'sd_name');
  if (!name.ok || !bytesAt(name.value, 0, ascii(KERNEL_TABLE_NAME))) return false;
  const nul = await readExactly(view, c.symstart, L.elfSymSize, 'first symbol');
  if (!nul.ok || nul.value.some((b) => b !== 0)) return false;
  const first = await readExactly(view, c.strstart, 1, 'first string');
  return first.ok && first.value[0] === 0;
}

/** Look names up in one table's symbols and strings (read whole: a kernel's are a few MiB). */
export async function lookupInTable(view: DumpView, t: KernelSymtab, names: readonly string[]): Promise<Map<string, bigint> | null> {
  const m = view.module;
  if (!m) return null;
  const L = ksymsLayout(m);
  const symsRead = await readExactly(view, t.symstart, t.symsize, 'symbols');
  const strsRead = symsRead.ok ? await readExactly(view, t.strstart, t.strsize, 'strings') : null;
  if (!symsRead.ok || !strsRead?.ok) return null;
  const syms = symsRead.value;
  const strs = strsRead.value;
  const wanted = new Map(names.map((n) => [n, ascii(n)]));
  const found = new Map<string, bigint>();
  const v = new ByteView(syms, L.littleEndian);
  for (let o = L.elfSymSize; o + L.elfSymSize <= syms.length && found.size < wanted.size; o += L.elfSymSize) {
    const nameOff = v.u32(o);
    if (nameOff >= strs.length) continue;
    for (const [n, bytes] of wanted) {
      if (found.has(n) || !bytesAt(strs, nameOff, bytes)) continue;
      found.set(n, L.elf64 ? v.u64(o + 8) : BigInt(v.u32(o + 4)));
    }
  }
  return found;
}

function bytesAt(strs: Uint8Array, off: number, name: Uint8Array): boolean {
  if (off + name.length >= strs.length || strs[off + name.length] !== 0) return false;
  for (let i = 0; i < name.length; i++) if (strs[off + i] !== name[i]) return false;
  return true;
}

export type DumpSymbols =
  | { ok: true; image: Uint8Array; table: KernelSymtab; addresses: KsymsAddresses; tables: number }
  | { ok: false; reason: string };

/**
 * The kernel image savecore would rebuild (spec 7.7), found without a kernel file: usable as the
 * namelist for nlist. Needs a dump header (mkheader done) for translation.
 */
export async function symbolsFromDump(view: DumpView, opts: DiscoverOptions = {}): Promise<DumpSymbols> {
  if (!view.state) return { ok: false, reason: 'no valid dump header' };
  const table = await findKernelSymtab(view, opts);
  if (!table) {
    const where = opts.limitBytes === undefined ? 'the dump\'s memory' : `the first ${Math.round(opts.limitBytes / 2 ** 20)} MiB of the dump's memory`;
    return { ok: false, reason: `no ksyms table named "${KERNEL_TABLE_NAME}" in ${where}` };
  }
  const found = await lookupInTable(view, table, KSYMS_SYMBOLS);
  const missing = KSYMS_SYMBOLS.filter((n) => !found?.has(n));
  if (!found || missing.length) return { ok: false, reason: `the kernel's ksyms table lacks ${missing.join(', ') || 'readable symbols'}` };
  const addresses = Object.fromEntries(found) as KsymsAddresses;
  const sink = new MemorySink();
  const r = await writeKsymsKernel(view, addresses, async (c) => {
    await sink.write(c);
  }, opts.signal);
  if (!r.ok) return { ok: false, reason: `the ksyms image could not be rebuilt: ${r.warning ?? r.reason}` };
  return { ok: true, image: sink.bytes(), table, addresses, tables: r.tables };
}

/** Symbol names are ASCII in every kernel we read. */
function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
}
