// Symbol search over the kernel's ELF symbol table: by name (exact, prefix, then substring) or,
// for a "0x…" query, the symbols whose extent contains that address.

import { listSymbols, type ElfSymbol } from '../../../core/format/elf.ts';
import type { OpParsedArgs } from '../../../contract/operations.ts';
import type { SymbolInfo, SymbolPage, SymbolSearchResult } from '../../../contract/results.ts';
import { toHexAddress } from '../../../contract/values.ts';
import { OpFailure } from '../dispatch.ts';
import { type HandlerContext, withSession } from '../context.ts';
import type { Session } from '../sessions.ts';

const DEFAULT_LIMIT = 100;
const TYPES: Record<number, SymbolInfo['type']> = { 0: 'notype', 1: 'object', 2: 'func', 3: 'section', 4: 'file' };
const BINDS: Record<number, SymbolInfo['bind']> = { 0: 'local', 1: 'global', 2: 'weak' };

export function symbolsOf(s: Session): Promise<ElfSymbol[]> {
  // The kernel file, or the ksyms image found in the dump when none was given.
  const namelist = s.opened.kd.namelistSource;
  if (!namelist) throw new OpFailure('not-found', `there are no symbols to search: ${s.opened.namelist.note ?? 'no kernel file given'}`);
  s.symbols ??= listSymbols(namelist).catch((e: unknown) => {
    s.symbols = null; // let a later search retry
    throw new OpFailure('kvm-error', `${s.params.kernelPath ?? 'symbols from the dump'}: ${(e as Error).message}`);
  });
  return s.symbols;
}

function rank(sym: ElfSymbol, q: string): number {
  const name = sym.name.toLowerCase();
  if (name === q) return 0;
  if (name.startsWith(q)) return 1;
  return name.includes(q) ? 2 : -1;
}

export function matchSymbols(all: readonly ElfSymbol[], query: string): ElfSymbol[] {
  const q = query.trim().toLowerCase().replace(/^_/, '');
  if (/^0x[0-9a-f]+$/.test(q)) {
    const addr = BigInt(q);
    return all.filter((s) => s.value === addr || (addr >= s.value && addr < s.value + s.size));
  }
  const scored = all.map((s) => ({ s, r: rank(s, q) })).filter((x) => x.r >= 0);
  scored.sort((x, y) => x.r - y.r || x.s.name.length - y.s.name.length || (x.s.name < y.s.name ? -1 : 1));
  return scored.map((x) => x.s);
}

export async function symbolSearchOp(ctx: HandlerContext, a: OpParsedArgs<'symbolSearch'>): Promise<SymbolSearchResult> {
  return withSession(ctx, a.sessionId, async (s) => {
    const matches = matchSymbols(await symbolsOf(s), a.query);
    const limit = a.limit ?? DEFAULT_LIMIT;
    return {
      total: matches.length,
      symbols: matches.slice(0, limit).map((m) => ({
        name: m.name, value: toHexAddress(m.value), size: Number(m.size), type: TYPES[m.type] ?? 'other', bind: BINDS[m.bind] ?? 'other',
      })),
    };
  });
}

/** Sorted views of one session's symbols, kept for the last few (query, order) pairs a user pages through. */
const sortedCache = new WeakMap<readonly ElfSymbol[], Map<string, ElfSymbol[]>>();

function sortedFor(all: readonly ElfSymbol[], query: string, sort: 'name' | 'address' | 'size', descending: boolean): ElfSymbol[] {
  const key = `${sort}:${descending}:${query}`;
  let byKey = sortedCache.get(all);
  if (!byKey) sortedCache.set(all, (byKey = new Map()));
  const hit = byKey.get(key);
  if (hit) return hit;
  const base = query.trim() ? matchSymbols(all, query) : all.filter((x) => x.name !== '' && x.type !== 3 && x.type !== 4);
  const cmp = sort === 'name' ? (x: ElfSymbol, y: ElfSymbol) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0)
    : sort === 'address' ? (x: ElfSymbol, y: ElfSymbol) => (x.value < y.value ? -1 : x.value > y.value ? 1 : 0)
      : (x: ElfSymbol, y: ElfSymbol) => (x.size < y.size ? -1 : x.size > y.size ? 1 : 0);
  // An address query keeps matchSymbols' order (containing symbols first) unless a column is chosen.
  const sorted = [...base].sort((x, y) => (descending ? -cmp(x, y) : cmp(x, y)));
  if (byKey.size >= 4) byKey.delete(byKey.keys().next().value!);
  byKey.set(key, sorted);
  return sorted;
}

export async function symbolPageOp(ctx: HandlerContext, a: OpParsedArgs<'symbolPage'>): Promise<SymbolPage> {
  return withSession(ctx, a.sessionId, async (s) => {
    const all = sortedFor(await symbolsOf(s), a.query, a.sort, a.descending);
    const q = a.query.trim().toLowerCase();
    const addr = /^0x[0-9a-f]+$/.test(q) ? BigInt(q) : null;
    return {
      total: all.length,
      offset: a.offset,
      symbols: all.slice(a.offset, a.offset + a.limit).map((m) => ({
        name: m.name, value: toHexAddress(m.value), size: Number(m.size), type: TYPES[m.type] ?? 'other', bind: BINDS[m.bind] ?? 'other',
        ...(addr !== null ? { at: addr === m.value ? m.name : `${m.name}+0x${(addr - m.value).toString(16)}` } : {}),
      })),
    };
  });
}
