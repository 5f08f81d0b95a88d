// The symbol that holds an address, for function+offset in backtraces and names in the Memory
// view: one rule for both, from one address-sorted index built once per symbol table.

export interface AddressedSymbol {
  name: string;
  value: bigint;
  /** st_size; 0 when the symbol table gives none (assembly entry points, some labels). */
  size: bigint | number;
}

/** How far a sizeless symbol reaches at most when the next symbol is further away (or absent). */
export const SIZELESS_REACH = 0x10000n;
/** Sized symbols before the nearest one that may still enclose the address (nested objects). */
const ENCLOSING_LOOKBACK = 8;

export interface HeldBy<T> {
  symbol: T;
  offset: bigint;
}

/**
 * Symbols sorted by address (value 0 dropped). `holding(addr)` answers the symbol whose
 * [value, value + size) holds addr — the nearest at or below it, or one of the few before it
 * that encloses it — and, for the nearest symbol when it is sizeless, up to the next symbol and
 * at most SIZELESS_REACH. Anything else holds nothing: no made-up function+offset.
 */
export class SymbolIndex<T extends AddressedSymbol> {
  private readonly sorted: readonly T[];

  constructor(symbols: readonly T[]) {
    this.sorted = symbols.filter((s) => s.value !== 0n).sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  }

  holding(addr: bigint): HeldBy<T> | null {
    const s = this.sorted;
    let lo = 0;
    let hi = s.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (s[mid]!.value <= addr) lo = mid + 1;
      else hi = mid;
    }
    // lo: the first symbol above addr; lo − 1: the nearest at or below it.
    for (let i = lo - 1; i >= 0 && i >= lo - ENCLOSING_LOOKBACK; i--) {
      const sym = s[i]!;
      const size = BigInt(sym.size);
      // A sizeless symbol reaches to the next one (which is above addr) but not without bound.
      const end = size > 0n ? sym.value + size : i === lo - 1 ? sym.value + SIZELESS_REACH : sym.value;
      if (addr < end) return { symbol: sym, offset: addr - sym.value };
    }
    return null;
  }
}

/** function+offset for an address from the kernel's function symbols, or null outside every function. */
export function symbolizer(functions: readonly AddressedSymbol[]): (addr: bigint) => { name: string; offset: bigint } | null {
  const index = new SymbolIndex(functions);
  return (addr) => {
    const held = index.holding(addr);
    return held ? { name: held.symbol.name, offset: held.offset } : null;
  };
}
