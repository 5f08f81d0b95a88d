// fdnlist on real ELF bytes written by buildElf: spec section 6.

import { describe, expect, it } from 'vitest';
import { MemorySource } from '../../core/source.ts';
import { listSymbols, readElfHeader, ElfFormatError } from '../../core/format/elf.ts';
import { fdnlist, type AcceptedMachine } from '../../core/format/nlist.ts';
import {
  buildElf,
  buildElfWithLayout,
  ELF_VARIANTS,
  EM_386,
  EM_AARCH64,
  EM_X86_64,
  modelSymtab,
  nlistModel,
  sampleAddresses,
  sampleKernel,
  type BuildElfOptions,
  type ElfVariant,
} from '../fixtures/elf.ts';

const N_UNDF = 0;
const N_EXT = 1;
const N_TEXT = 4;
const N_DATA = 6;
const N_FN = 0x1e;

function acceptFor(v: ElfVariant): AcceptedMachine[] {
  return [{ elfClass: v.elfClass, elfMachines: [v.machine] }];
}

function source(bytes: Uint8Array): MemorySource {
  return new MemorySource(bytes, 'kernel', 'file', false);
}

function lookup(bytes: Uint8Array, names: string[], accepted: AcceptedMachine[]) {
  return fdnlist(source(bytes), names, { acceptedMachines: accepted });
}

/** Overwrite a field of `size` bytes in the file's byte order. */
function patch(bytes: Uint8Array, off: number, size: 2 | 4 | 8, value: bigint, le: boolean): Uint8Array {
  const out = bytes.slice();
  const dv = new DataView(out.buffer);
  if (size === 2) dv.setUint16(off, Number(value), le);
  else if (size === 4) dv.setUint32(off, Number(value), le);
  else dv.setBigUint64(off, value, le);
  return out;
}

/** Offsets of e_shentsize and of sh_offset / sh_size inside a section header. */
function fieldOffsets(cls: 32 | 64) {
  return cls === 32
    ? { shentsize: 46, shOffset: 16, shSize: 20, word: 4 as const }
    : { shentsize: 58, shOffset: 24, shSize: 32, word: 8 as const };
}

describe.each(ELF_VARIANTS)('$label', (v) => {
  const opts = sampleKernel(v);
  const bytes = buildElf(opts);
  const a = sampleAddresses(v);

  it('readElfHeader decodes the header in the file byte order', async () => {
    const r = await readElfHeader(source(bytes));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.header).toMatchObject({
      elfClass: v.elfClass,
      data: v.littleEndian ? 1 : 2,
      littleEndian: v.littleEndian,
      type: 2,
      machine: v.machine,
      entry: a.text,
      shentsize: v.elfClass === 32 ? 40 : 64,
      phnum: 3,
    });
  });

  it('finds every symbol with its value and n_type', async () => {
    const r = await lookup(
      bytes,
      ['_dumpmag', 'version', 'start', 'static_helper', 'weak_hook', 'netbsd.ksyms', '_end', 'hostname', 'undef_ref'],
      acceptFor(v),
    );
    expect(r.result).toBe(0);
    expect(r.reason).toBeUndefined();
    const by = Object.fromEntries(r.entries.map((e) => [e.name, e]));
    expect(by._dumpmag).toEqual({ name: '_dumpmag', type: N_DATA | N_EXT, value: a.dumpmag, found: true });
    expect(by.version).toMatchObject({ type: N_DATA | N_EXT, value: a.version });
    expect(by.start).toMatchObject({ type: N_TEXT | N_EXT, value: a.text });
    expect(by.static_helper).toMatchObject({ type: N_TEXT, value: a.text + 0x40n });
    expect(by.weak_hook).toMatchObject({ type: N_TEXT | N_EXT, value: a.text + 0x80n });
    expect(by['netbsd.ksyms']).toMatchObject({ type: N_FN, value: 0n });
    expect(by._end).toMatchObject({ type: N_UNDF | N_EXT, value: a.bss + 0x2000n });
    expect(by.hostname).toMatchObject({ type: N_DATA | N_EXT, value: a.hostname });
  });

  it('undefined symbols match, with their value 0', async () => {
    const r = await lookup(bytes, ['_undef_ref'], acceptFor(v));
    expect(r.result).toBe(0);
    expect(r.entries[0]).toEqual({ name: '_undef_ref', type: N_UNDF | N_EXT, value: 0n, found: true });
  });

  it('returns the number of names not found', async () => {
    const r = await lookup(bytes, ['_dumpmag', '_no_such', 'also_missing'], acceptFor(v));
    expect(r.result).toBe(2);
    expect(r.entries.map((e) => e.found)).toEqual([true, false, false]);
    expect(r.entries[1]).toEqual({ name: '_no_such', type: 0, value: 0n, found: false });
  });

  it('listSymbols returns the named symbols in file order', async () => {
    const syms = await listSymbols(source(bytes));
    expect(syms.map((s) => s.name)).toEqual(opts.symbols.map((s) => s.name).filter((n) => n !== '').sort(byBindOrder(opts)));
    const dm = syms.find((s) => s.name === 'dumpmag')!;
    expect(dm).toMatchObject({ value: a.dumpmag, size: 4n, type: 1, bind: 1, shndx: 2 });
    expect(syms.find((s) => s.name === 'end')!.shndx).toBe(0xfff1);
    expect(syms.find((s) => s.name === 'undef_ref')!.shndx).toBe(0);
  });
});

/** buildElf writes locals first: sort names the same way (stable). */
function byBindOrder(opts: BuildElfOptions) {
  const rank = new Map(opts.symbols.map((s, i) => [s.name, (s.bind === 'local' ? 0 : 1000) + i]));
  return (x: string, y: string) => rank.get(x)! - rank.get(y)!;
}

const v64 = ELF_VARIANTS.find((v) => v.elfClass === 64 && v.littleEndian)!;
const v32 = ELF_VARIANTS.find((v) => v.elfClass === 32 && v.littleEndian)!;
const k64 = buildElf(sampleKernel(v64));
const k32 = buildElf(sampleKernel(v32));
const AMD64: AcceptedMachine[] = [
  { elfClass: 32, elfMachines: [EM_386] },
  { elfClass: 64, elfMachines: [EM_X86_64] },
];

describe('class and e_machine checks (spec 6.1, 6.3 steps 3-4)', () => {
  it('rejects an e_machine the architecture does not accept', async () => {
    const r = await lookup(k64, ['_dumpmag'], [{ elfClass: 64, elfMachines: [EM_AARCH64] }]);
    expect(r.result).toBe(-1);
    expect(r.reason).toBe('e_machine 62 not accepted (expected 183)');
    expect(r.entries).toEqual([{ name: '_dumpmag', type: 0, value: 0n, found: false }]);
  });

  it('rejects a class with no reader compiled in', async () => {
    const r = await lookup(k32, ['_dumpmag'], [{ elfClass: 64, elfMachines: [EM_X86_64] }]);
    expect(r.result).toBe(-1);
    expect(r.reason).toBe('ELF32 not accepted on this architecture');
  });

  it('amd64 compiles ELF32 and ELF64 readers: both classes work', async () => {
    expect((await lookup(k32, ['_dumpmag'], AMD64)).result).toBe(0);
    expect((await lookup(k64, ['_dumpmag'], AMD64)).result).toBe(0);
  });

  it('rejects a non-ELF file', async () => {
    const r = await lookup(new Uint8Array(200).fill(0x41), ['_dumpmag'], AMD64);
    expect(r).toMatchObject({ result: -1, reason: 'not an ELF file' });
    expect((await lookup(new Uint8Array(0), ['x'], AMD64)).reason).toBe('not an ELF file');
  });
});

describe('request list rules (spec 6.2, 6.3 step 10)', () => {
  const acc = acceptFor(v64);

  it('strips one leading underscore from the request name only', async () => {
    const r = await lookup(k64, ['_dumpmag', 'dumpmag', '__x', '_x', '_'], acc);
    const a = sampleAddresses(v64);
    // '_dumpmag' and 'dumpmag' both want "dumpmag": the symbol updates the first of them only.
    expect(r.entries[0]).toMatchObject({ found: true, value: a.dumpmag });
    expect(r.entries[1]).toMatchObject({ found: false, value: 0n });
    // '__x' wants "_x" (found); '_x' wants "x" (absent: symbol names are never stripped).
    expect(r.entries[2]).toMatchObject({ found: true, value: a.data + 0x80n });
    expect(r.entries[3]).toMatchObject({ found: false });
    // '_' wants "": the null symbol (index 0) is scanned and matches, then the unnamed local
    // SECTION symbol matches again (duplicate quirk): its value stays, n_type is left at N_UNDF.
    expect(r.entries[4]).toMatchObject({ found: true, value: a.data, type: N_UNDF });
    // 5 entries, 4 matches (null, section, dumpmag, _x): nent = 1 although two entries are unfound.
    expect(r.result).toBe(1);
  });

  it('a bare name finds the same symbol as the underscored one', async () => {
    const r = await lookup(k64, ['dumpmag'], acc);
    expect(r.result).toBe(0);
    expect(r.entries[0].value).toBe(sampleAddresses(v64).dumpmag);
  });

  it('the list ends at the first empty name', async () => {
    const r = await lookup(k64, ['_dumpmag', '', '_version', '_no_such'], acc);
    expect(r.result).toBe(0);
    expect(r.entries.map((e) => e.found)).toEqual([true, false, false, false]);
    expect(r.entries[2]).toEqual({ name: '_version', type: 0, value: 0n, found: false });
  });

  it('an empty list (or one starting with "") returns 0', async () => {
    expect((await lookup(k64, [], acc)).result).toBe(0);
    expect((await lookup(k64, ['', '_dumpmag'], acc)).result).toBe(0);
  });
});

describe('duplicate-name quirk (spec 6.3 quirks, 9.13)', () => {
  const base = 0xffffffff80000000n;
  const LOCAL_DUP = base + 0x6007f0n;
  const GLOBAL_DUP = base + 0x608e18n;
  const DUMPMAG = base + 0x6007e8n;
  const sections: BuildElfOptions['sections'] = [
    { name: '.data', addr: base + 0x600000n, data: new Uint8Array(0x1000) },
    { name: '.bss', type: 'nobits', addr: base + 0x601000n, size: 0x10000 },
  ];
  function kernel(globalDupFirst: boolean) {
    const dupG = { name: 'dup_sym', value: GLOBAL_DUP, size: 8, type: 'object', bind: 'global', section: '.bss' } as const;
    const dm = { name: 'dumpmag', value: DUMPMAG, size: 4, type: 'object', bind: 'global', section: '.data' } as const;
    const opts: BuildElfOptions = {
      elfClass: 64,
      littleEndian: true,
      machine: EM_X86_64,
      sections,
      symbols: [
        { name: 'dup_sym', value: LOCAL_DUP, size: 8, type: 'object', bind: 'local', section: '.data' },
        ...(globalDupFirst ? [dupG, dm] : [dm, dupG]),
      ],
    };
    return { opts, bytes: buildElf(opts) };
  }

  it("mkdump's layout: local dup_sym, global dup_sym, dumpmag — the count reaches 0 early", async () => {
    // nent = 2. Symbol 1 (local dup_sym) matches entry 0: value LOCAL, n_type N_DATA, nent 1.
    // Symbol 2 (global dup_sym) matches entry 0 again: value GLOBAL, N_DATA|N_EXT, nent 0: stop.
    // dumpmag (symbol 3) is never reached, so entry 1 stays zero; the return value is 0.
    const { opts, bytes } = kernel(true);
    const r = await lookup(bytes, ['_dup_sym', '_dumpmag'], [{ elfClass: 64, elfMachines: [EM_X86_64] }]);
    expect(r.result).toBe(0);
    expect(r.entries).toEqual([
      { name: '_dup_sym', type: N_DATA | N_EXT, value: GLOBAL_DUP, found: true },
      { name: '_dumpmag', type: 0, value: 0n, found: false },
    ]);
    expect(nlistModel(modelSymtab(opts), ['_dup_sym', '_dumpmag'])).toEqual({
      result: r.result,
      entries: r.entries.map(({ type, value, found }) => ({ type, value, found })),
    });
  });

  it('with dumpmag before the global duplicate both are found; dup_sym keeps the local value', async () => {
    // local dup_sym → entry 0, nent 1; dumpmag → entry 1, nent 0: stop before the global dup_sym.
    const { bytes } = kernel(false);
    const r = await lookup(bytes, ['_dup_sym', '_dumpmag'], [{ elfClass: 64, elfMachines: [EM_X86_64] }]);
    expect(r.result).toBe(0);
    expect(r.entries[0]).toMatchObject({ type: N_DATA, value: LOCAL_DUP, found: true });
    expect(r.entries[1]).toMatchObject({ type: N_DATA | N_EXT, value: DUMPMAG, found: true });
  });

  it('with a spare entry the count goes on past the duplicate: last duplicate wins', async () => {
    // nent 3: local dup → 2, global dup → 1, dumpmag → 0.
    const { bytes } = kernel(true);
    const r = await lookup(bytes, ['_dup_sym', '_dumpmag', '_missing'], [{ elfClass: 64, elfMachines: [EM_X86_64] }]);
    expect(r.result).toBe(0);
    expect(r.entries.map((e) => [e.value, e.found])).toEqual([
      [GLOBAL_DUP, true],
      [DUMPMAG, true],
      [0n, false],
    ]);
  });

  it('a SECTION-typed duplicate keeps the earlier n_type (other ELF types leave it)', async () => {
    const opts: BuildElfOptions = {
      elfClass: 64,
      littleEndian: true,
      machine: EM_X86_64,
      symbolOrder: 'as-given',
      sections,
      symbols: [
        { name: 'foo', value: 0x10n, type: 'object', bind: 'global', section: '.data' },
        { name: 'foo', value: 0x20n, type: 'section', bind: 'local', section: '.data' },
        { name: 'bar', value: 0x30n, type: 'section', bind: 'global', section: '.data' },
      ],
    };
    const r = await lookup(buildElf(opts), ['foo', 'bar', 'x', 'y'], [{ elfClass: 64, elfMachines: [EM_X86_64] }]);
    expect(r.result).toBe(1);
    expect(r.entries[0]).toMatchObject({ type: N_DATA | N_EXT, value: 0x20n });
    expect(r.entries[1]).toMatchObject({ type: N_EXT, value: 0x30n });
  });
});

describe('unusable files (spec 6.3 steps 2, 6, 7)', () => {
  const acc = acceptFor(v32);
  const acc64 = acceptFor(v64);

  it('stripped: no SYMTAB', async () => {
    const r = await lookup(buildElf({ ...sampleKernel(v64), stripped: true }), ['_dumpmag'], acc64);
    expect(r).toMatchObject({ result: -1, reason: 'stripped (no SYMTAB)' });
    await expect(listSymbols(source(buildElf({ ...sampleKernel(v64), stripped: true })))).rejects.toThrow(ElfFormatError);
  });

  it('stripped: SYMTAB sh_offset 0', async () => {
    for (const v of ELF_VARIANTS) {
      const { bytes, layout } = buildElfWithLayout(sampleKernel(v));
      const f = fieldOffsets(v.elfClass);
      const sym = layout.sections.find((s) => s.name === '.symtab')!;
      const bad = patch(bytes, sym.headerOffset + f.shOffset, f.word, 0n, v.littleEndian);
      const r = await lookup(bad, ['_dumpmag'], acceptFor(v));
      expect(r).toMatchObject({ result: -1, reason: 'stripped (SYMTAB sh_offset 0)' });
    }
  });

  it('bad e_shentsize', async () => {
    const bad = patch(k32, fieldOffsets(32).shentsize, 2, 41n, true);
    expect(await lookup(bad, ['_dumpmag'], acc)).toMatchObject({ result: -1, reason: 'e_shentsize 41 != 40' });
    const bad64 = patch(k64, fieldOffsets(64).shentsize, 2, 40n, true);
    expect((await lookup(bad64, ['_dumpmag'], acc64)).reason).toBe('e_shentsize 40 != 64');
  });

  it('truncated inside the ELF header', async () => {
    const r = await lookup(k64.subarray(0, 60), ['_dumpmag'], acc64);
    expect(r).toMatchObject({ result: -1, reason: 'truncated ELF header (60 of 64 bytes)' });
    expect((await lookup(k32.subarray(0, 51), ['_dumpmag'], acc)).result).toBe(-1);
  });

  it('truncated inside the section header table', async () => {
    const r = await lookup(k64.subarray(0, k64.length - 1), ['_dumpmag'], acc64);
    expect(r.result).toBe(-1);
    expect(r.reason).toMatch(/^section header table extends past end of file/);
  });

  it('SYMTAB past EOF', async () => {
    for (const v of ELF_VARIANTS) {
      const { bytes, layout } = buildElfWithLayout(sampleKernel(v));
      const f = fieldOffsets(v.elfClass);
      const sym = layout.sections.find((s) => s.name === '.symtab')!;
      const bad = patch(bytes, sym.headerOffset + f.shSize, f.word, BigInt(bytes.length), v.littleEndian);
      const r = await lookup(bad, ['_dumpmag'], acceptFor(v));
      expect(r.result).toBe(-1);
      expect(r.reason).toBe(`SYMTAB extends past end of file (offset ${sym.offset}, size ${bytes.length})`);
    }
  });

  it('string table past EOF', async () => {
    const { bytes, layout } = buildElfWithLayout(sampleKernel(v32));
    const str = layout.sections.find((s) => s.name === '.strtab')!;
    const bad = patch(bytes, str.headerOffset + fieldOffsets(32).shOffset, 4, BigInt(bytes.length - 2), true);
    const r = await lookup(bad, ['_dumpmag'], acc);
    expect(r.result).toBe(-1);
    expect(r.reason).toMatch(/^string table extends past end of file/);
  });

  it('SYMTAB sh_link out of range', async () => {
    const { bytes, layout } = buildElfWithLayout(sampleKernel(v32));
    const sym = layout.sections.find((s) => s.name === '.symtab')!;
    const bad = patch(bytes, sym.headerOffset + 24, 4, 99n, true);
    expect((await lookup(bad, ['_dumpmag'], acc)).reason).toBe('SYMTAB sh_link 99 >= e_shnum 7');
  });
});

describe('last SYMTAB wins (spec 6.3 step 7)', () => {
  it.each(ELF_VARIANTS)('$label', async (v) => {
    const { bytes, layout } = buildElfWithLayout({ ...sampleKernel(v), extraSymtab: true });
    const symtabs = layout.sections.filter((s) => s.type === 2).map((s) => s.name);
    expect(symtabs).toEqual(['.symtab.old', '.symtab']);
    const r = await lookup(bytes, ['_dumpmag', '_version'], acceptFor(v));
    expect(r.result).toBe(0);
    expect(r.entries.map((e) => e.value)).toEqual([sampleAddresses(v).dumpmag, sampleAddresses(v).version]);
    const listed = await listSymbols(source(bytes));
    expect(listed.find((s) => s.name === 'dumpmag')!.value).toBe(sampleAddresses(v).dumpmag);
  });

  it('an explicit decoy table placed first is ignored', async () => {
    const decoy = [{ name: 'only_in_old', value: 5n, type: 'object', bind: 'global' } as const];
    const bytes = buildElf({ ...sampleKernel(v64), extraSymtab: decoy });
    const r = await lookup(bytes, ['only_in_old'], acceptFor(v64));
    expect(r.result).toBe(1);
  });
});

describe('chardev sources (spec 6.3 step 5)', () => {
  it('are not read as files: NetBSD would ask /dev/ksyms', async () => {
    const r = await fdnlist(new MemorySource(k64, 'dev', 'chardev'), ['_dumpmag'], { acceptedMachines: acceptFor(v64) });
    expect(r.result).toBe(-1);
    expect(r.reason).toMatch(/ksyms/);
  });
});
