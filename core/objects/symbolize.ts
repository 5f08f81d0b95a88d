// function+offset for an address, from the kernel's function symbols (sorted once).

export interface FunctionSymbol {
  name: string;
  value: bigint;
  size: bigint;
}

/** A lookup that answers only for addresses inside a function (by st_size, or up to the next one when st_size is 0). */
export function symbolizer(functions: readonly FunctionSymbol[]): (addr: bigint) => { name: string; offset: bigint } | null {
  const sorted = functions.filter((f) => f.value !== 0n).sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  return (addr) => {
    let lo = 0;
    let hi = sorted.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid].value <= addr) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (best < 0) return null;
    const f = sorted[best];
    const end = f.size > 0n ? f.value + f.size : (sorted[best + 1]?.value ?? f.value + 1n);
    return addr < end ? { name: f.name, offset: addr - f.value } : null;
  };
}
