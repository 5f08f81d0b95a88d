// Exact-length kernel reads for the crash facts, triage and savecore's checks: savecore's KREAD
// test (exactly sizeof bytes, or failure) over the strict virtual layer, so a value is either the
// dump's memory or a reason — never bytes from past the memory data or a stale buffer. Symbol
// lookup once for a list of names. Nothing here throws.

import { ByteView } from '../format/bytes.ts';
import { utf8Decode } from '../format/utf8.ts';
import type { DumpView } from '../layers/dump-view.ts';
import type { Result } from '../result.ts';

/** A value from the dump, or why it could not be had. */
export type Read<T> = Result<T>;

/** Symbol name → address for the names found; missing names map to a reason. */
export interface SymbolTable {
  addr(name: string): Read<bigint>;
}

/** kvm_nlist once for all names (leading '_' as savecore writes them, spec 7.2). */
export async function lookupSymbols(view: DumpView, names: readonly string[]): Promise<SymbolTable> {
  const res = await view.nlist(names.map((n) => '_' + n));
  const badNamelist = res.result === -1 ? `kvm_nlist: ${res.error || 'bad namelist'}${res.reason ? ` (${res.reason})` : ''}` : null;
  const byName = new Map<string, bigint>();
  res.entries.forEach((e, i) => {
    if (e.found) byName.set(names[i], e.value);
  });
  return {
    addr(name) {
      if (badNamelist) return { ok: false, reason: badNamelist };
      const v = byName.get(name);
      return v === undefined ? { ok: false, reason: `symbol ${name} not in namelist` } : { ok: true, value: v };
    },
  };
}

/** The crashed machine's sizeof(long) and byte order (kern_msgbuf and panicstart are longs, spec 2.6). */
export function machineWords(view: DumpView): { longSize: 4 | 8; littleEndian: boolean } {
  return { longSize: view.longSize, littleEndian: view.littleEndian };
}

/** Exactly `length` bytes of kernel memory at va, or the first fault's reason. */
export async function readExactly(view: DumpView, va: bigint, length: number, what: string): Promise<Read<Uint8Array>> {
  const got = await view.virtual.read(va, length);
  const fault = got.faults[0];
  if (!fault) return { ok: true, value: got.data };
  // A translation fault names the page; a physical one already says "VA … → PA …".
  const where = fault.walk ? `page 0x${fault.address.toString(16)} unmapped: ` : '';
  return { ok: false, reason: `${what} at 0x${va.toString(16)}: ${where}${fault.reason}` };
}

/** A signed C long at va. */
export async function readLong(view: DumpView, va: bigint, what: string): Promise<Read<bigint>> {
  const r = await readExactly(view, va, view.longSize, what);
  if (!r.ok) return r;
  const v = new ByteView(r.value, view.littleEndian);
  return { ok: true, value: view.longSize === 8 ? v.i64(0) : BigInt(v.i32(0)) };
}

/** A pointer (an unsigned long) at va. */
export async function readPointer(view: DumpView, va: bigint, what: string): Promise<Read<bigint>> {
  const r = await readExactly(view, va, view.longSize, what);
  return r.ok ? { ok: true, value: new ByteView(r.value, view.littleEndian).word(0, view.longSize) } : r;
}

/** A 4- or 8-byte integer at va, signed or not. */
export async function readWord(view: DumpView, va: bigint, size: 4 | 8, signed: boolean, what: string): Promise<Read<bigint>> {
  const r = await readExactly(view, va, size, what);
  if (!r.ok) return r;
  const v = new ByteView(r.value, view.littleEndian);
  const value = size === 8 ? (signed ? v.i64(0) : v.u64(0)) : signed ? BigInt(v.i32(0)) : BigInt(v.u32(0));
  return { ok: true, value };
}

/** A variable found by name: the symbol, then the value. */
export async function readLongSymbol(view: DumpView, syms: SymbolTable, name: string): Promise<Read<bigint>> {
  const a = syms.addr(name);
  return a.ok ? readLong(view, a.value, name) : a;
}

export async function readPointerSymbol(view: DumpView, syms: SymbolTable, name: string): Promise<Read<bigint>> {
  const a = syms.addr(name);
  return a.ok ? readPointer(view, a.value, name) : a;
}

/** A C string: the bytes before the first NUL (all of them when there is none), decoded as UTF-8. */
export function cString(bytes: Uint8Array): string {
  const nul = bytes.indexOf(0);
  return utf8Decode(nul === -1 ? bytes : bytes.subarray(0, nul));
}
