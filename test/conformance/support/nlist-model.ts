// An independent reading of a kernel's .symtab and of NetBSD's ELF nlist algorithm (spec 6.3),
// written for the tests only (it shares nothing with core/format/elf.ts or nlist.ts): the oracle
// for the CLI's `nlist` output, including the duplicate-name and underscore quirks.

export interface SymtabEntry {
  index: number;
  name: string;
  value: bigint;
  info: number;
  shndx: number;
}

/** Every symbol of the last SHT_SYMTAB section, index 0 included (little-endian ELF32/ELF64). */
export function readSymtab(elf: Uint8Array): SymtabEntry[] {
  const dv = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  if (dv.getUint32(0, false) !== 0x7f454c46) throw new Error('not ELF');
  const is64 = elf[4] === 2;
  const shoff = is64 ? Number(dv.getBigUint64(0x28, true)) : dv.getUint32(0x20, true);
  const shentsize = dv.getUint16(is64 ? 0x3a : 0x2e, true);
  const shnum = dv.getUint16(is64 ? 0x3c : 0x30, true);
  const sh = (i: number) => {
    const o = shoff + i * shentsize;
    return is64
      ? { type: dv.getUint32(o + 4, true), offset: Number(dv.getBigUint64(o + 24, true)), size: Number(dv.getBigUint64(o + 32, true)), link: dv.getUint32(o + 40, true) }
      : { type: dv.getUint32(o + 4, true), offset: dv.getUint32(o + 16, true), size: dv.getUint32(o + 20, true), link: dv.getUint32(o + 24, true) };
  };
  let symtab = -1;
  for (let i = 0; i < shnum; i++) if (sh(i).type === 2) symtab = i;
  if (symtab < 0) throw new Error('no SHT_SYMTAB');
  const st = sh(symtab);
  const str = sh(st.link);
  const entSize = is64 ? 24 : 16;
  const out: SymtabEntry[] = [];
  for (let i = 0; i < Math.floor(st.size / entSize); i++) {
    const o = st.offset + i * entSize;
    const nameOff = dv.getUint32(o, true);
    const value = is64 ? dv.getBigUint64(o + 8, true) : BigInt(dv.getUint32(o + 4, true));
    const info = elf[is64 ? o + 4 : o + 12];
    const shndx = dv.getUint16(is64 ? o + 6 : o + 14, true);
    let end = str.offset + nameOff;
    while (elf[end] !== 0) end++;
    const name = Buffer.from(elf.subarray(str.offset + nameOff, end)).toString('latin1');
    out.push({ index: i, name, value, info, shndx });
  }
  return out;
}

export interface NlistOutcome {
  /** kvm_nlist's return: entries not found (the duplicate quirk can make it 0 early). */
  result: number;
  /** Per request entry: value, or null when the entry was never updated. */
  values: (bigint | null)[];
}

/** spec 6.3 steps 9–11 over a symbol table, for a request list of names. */
export function nlistModel(symtab: readonly SymtabEntry[], names: readonly string[]): NlistOutcome {
  const values: (bigint | null)[] = names.map(() => null);
  let nent = names.length;
  const want = names.map((n) => (n.startsWith('_') ? n.slice(1) : n));
  outer: for (const sym of symtab) {
    for (let i = 0; i < want.length; i++) {
      if (want[i] !== sym.name) continue;
      values[i] = sym.value;
      nent -= 1;
      if (nent <= 0) break outer;
      break;
    }
  }
  return { result: nent, values };
}
