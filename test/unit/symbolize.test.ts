// One rule for "which symbol holds this address", shared by backtraces and the Memory view.
import { describe, expect, it } from 'vitest';
import { SIZELESS_REACH, SymbolIndex, symbolizer } from '../../core/objects/symbolize.ts';

const sym = (name: string, value: number, size: number) => ({ name, value: BigInt(value), size: BigInt(size) });
const index = new SymbolIndex([
  sym('zero', 0, 0x100), // value 0: not a real address, never answers
  sym('big_table', 0x1000, 0x400),
  sym('inner', 0x1100, 0x10), // inside big_table
  sym('f', 0x2000, 0x20),
  sym('entry', 0x3000, 0), // sizeless (an assembly entry)
  sym('g', 0x40000, 0x10),
]);
const at = (a: number) => {
  const h = index.holding(BigInt(a));
  return h ? [h.symbol.name, Number(h.offset)] : null;
};

describe('SymbolIndex.holding', () => {
  it('answers within a sized symbol, with the offset, and nothing past its end', () => {
    expect(at(0x2000)).toEqual(['f', 0]);
    expect(at(0x201f)).toEqual(['f', 0x1f]);
    expect(at(0x2020)).toBeNull();
    expect(at(0x50)).toBeNull(); // below every real symbol: 'zero' was dropped
  });

  it('finds the enclosing symbol when the nearest one below has ended (nested objects)', () => {
    expect(at(0x1105)).toEqual(['inner', 5]);
    expect(at(0x1200)).toEqual(['big_table', 0x200]);
    expect(at(0x1400)).toBeNull();
  });

  it('lets a sizeless symbol reach to the next one, but at most SIZELESS_REACH', () => {
    expect(at(0x3000 + 0x123)).toEqual(['entry', 0x123]);
    expect(at(0x3000 + Number(SIZELESS_REACH) - 1)).toEqual(['entry', Number(SIZELESS_REACH) - 1]);
    expect(at(0x3000 + Number(SIZELESS_REACH))).toBeNull();
    expect(at(0x40008)).toEqual(['g', 8]);
  });

  it('symbolizer gives the same answers as name+offset', () => {
    const describeAddr = symbolizer([sym('f', 0x2000, 0x20), sym('entry', 0x3000, 0)]);
    expect(describeAddr(0x2010n)).toEqual({ name: 'f', offset: 0x10n });
    expect(describeAddr(0x2020n)).toBeNull();
    expect(describeAddr(0x3004n)).toEqual({ name: 'entry', offset: 4n });
  });
});
