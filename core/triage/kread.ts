// The small kvm_read idioms savecore(8) and dmesg(8) build on: KREAD of a long or pointer (exactly
// sizeof bytes or failure), looking up a symbol list once, and reasons phrased for humans. Every
// failure becomes a reason string; nothing here throws.

import { ByteView } from '../format/bytes.ts';
import { utf8Decode } from '../format/utf8.ts';
import type { Kvm } from '../kvm.ts';

/** A value from the dump, or why it could not be had. */
export type Read<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Symbol name → address for the names found; missing names map to a reason. */
export interface SymbolTable {
  addr(name: string): Read<bigint>;
}

/** kvm_nlist once for all names (leading '_' as savecore writes them, spec 7.2). */
export async function lookupSymbols(kd: Kvm, names: readonly string[]): Promise<SymbolTable> {
  const wanted = names.map((n) => '_' + n);
  const res = await kd.nlist(wanted);
  const badNamelist = res.result === -1 ? `kvm_nlist: ${kd.geterr() || 'bad namelist'}${res.reason ? ` (${res.reason})` : ''}` : null;
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
export function machineWords(kd: Kvm): { longSize: 4 | 8; littleEndian: boolean } {
  return { longSize: kd.machineModule?.longSize ?? kd.longSize, littleEndian: kd.machineModule?.littleEndian ?? true };
}

/** kvm_read that must return exactly buf.length bytes (savecore's KREAD test). */
export async function readExactly(kd: Kvm, va: bigint, length: number, what: string): Promise<Read<Uint8Array>> {
  const buf = new Uint8Array(length);
  const n = await kd.read(va, buf);
  if (n === length) return { ok: true, value: buf };
  const err = kd.geterr();
  const why = n === -1 ? err : `short read: ${n} of ${length} bytes${err ? ` (${err})` : ''}`;
  return { ok: false, reason: `kvm_read ${what} at 0x${va.toString(16)}: ${why}${n === -1 && /_kvm_kvatop/.test(err) ? ' — unmapped page' : ''}` };
}

/** KREAD of a signed C long at va. */
export async function readLong(kd: Kvm, va: bigint, what: string): Promise<Read<bigint>> {
  const { longSize, littleEndian } = machineWords(kd);
  const r = await readExactly(kd, va, longSize, what);
  if (!r.ok) return r;
  const v = new ByteView(r.value, littleEndian);
  return { ok: true, value: longSize === 8 ? v.i64(0) : BigInt(v.i32(0)) };
}

/** KREAD of a pointer (an unsigned long) at va. */
export async function readPointer(kd: Kvm, va: bigint, what: string): Promise<Read<bigint>> {
  const { longSize, littleEndian } = machineWords(kd);
  const r = await readExactly(kd, va, longSize, what);
  return r.ok ? { ok: true, value: new ByteView(r.value, littleEndian).word(0, longSize) } : r;
}

/** KREAD of a variable found by name: the symbol, then the value. */
export async function readLongSymbol(kd: Kvm, syms: SymbolTable, name: string): Promise<Read<bigint>> {
  const a = syms.addr(name);
  return a.ok ? readLong(kd, a.value, name) : a;
}

export async function readPointerSymbol(kd: Kvm, syms: SymbolTable, name: string): Promise<Read<bigint>> {
  const a = syms.addr(name);
  return a.ok ? readPointer(kd, a.value, name) : a;
}

/** A C string: the bytes before the first NUL (all of them when there is none), decoded as UTF-8. */
export function cString(bytes: Uint8Array): string {
  const nul = bytes.indexOf(0);
  return utf8Decode(nul === -1 ? bytes : bytes.subarray(0, nul));
}
