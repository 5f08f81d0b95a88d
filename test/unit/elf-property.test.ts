// Property tests: random symbol tables written by buildElf, looked up by fdnlist; plus speed.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemorySource } from '../../core/source.ts';
import { fdnlist } from '../../core/format/nlist.ts';
import { buildElf, modelSymtab, nlistModel, type BuildElfOptions, type ElfSymbolSpec } from '../fixtures/elf.ts';

const classAndOrder = fc.record({ elfClass: fc.constantFrom(32 as const, 64 as const), littleEndian: fc.boolean() });
const symType = fc.constantFrom('notype', 'object', 'func', 'file', 'section') as fc.Arbitrary<ElfSymbolSpec['type']>;
const symBind = fc.constantFrom('local', 'global', 'weak') as fc.Arbitrary<ElfSymbolSpec['bind']>;
const MACHINE = 62;

function kernel(cls: 32 | 64, le: boolean, symbols: ElfSymbolSpec[], order?: 'as-given'): BuildElfOptions {
  return {
    elfClass: cls,
    littleEndian: le,
    machine: MACHINE,
    symbolOrder: order,
    sections: [{ name: '.data', addr: 0x1000n, data: new Uint8Array(16) }],
    symbols,
  };
}

const symbolOf = (cls: 32 | 64) =>
  fc.record({
    value: fc.bigInt({ min: 0n, max: cls === 64 ? 2n ** 64n - 1n : 2n ** 32n - 1n }),
    type: symType,
    bind: symBind,
  });

describe('fdnlist properties', () => {
  it('unique names: every value comes back, missing names are counted', async () => {
    await fc.assert(
      fc.asyncProperty(
        classAndOrder,
        fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9_.]{0,12}$/), { minLength: 1, maxLength: 40 }),
        fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
        fc.uniqueArray(fc.stringMatching(/^[A-Z][A-Z0-9]{0,6}$/), { maxLength: 5 }),
        fc.infiniteStream(symbolOf(64)),
        async ({ elfClass, littleEndian }, names, underscore, missing, stream) => {
          const symbols = names.map((name) => {
            const s = stream.next().value;
            const value = elfClass === 32 ? s.value & 0xffffffffn : s.value;
            return { name, ...s, value } as ElfSymbolSpec;
          });
          const request = [...names.map((n, i) => (underscore[i] ? '_' + n : n)), ...missing];
          const bytes = buildElf(kernel(elfClass, littleEndian, symbols));
          const r = await fdnlist(new MemorySource(bytes), request, {
            acceptedMachines: [{ elfClass, elfMachines: [MACHINE] }],
          });
          expect(r.result).toBe(missing.length);
          symbols.forEach((s, i) => expect(r.entries[i]).toMatchObject({ value: s.value, found: true }));
          for (const e of r.entries.slice(names.length)) expect(e).toMatchObject({ found: false, value: 0n, type: 0 });
        },
      ),
      { numRuns: 150 },
    );
  });

  it('any table, any request list: agrees with the spec model (duplicates, "", underscores)', async () => {
    const name = fc.constantFrom('', 'a', '_a', 'b', '__b', 'dup', 'x_y');
    const request = fc.constantFrom('', '_', 'a', '_a', '__a', 'b', '_b', '__b', '___b', 'dup', '_dup', 'x_y', 'zz');
    await fc.assert(
      fc.asyncProperty(
        classAndOrder,
        fc.array(fc.tuple(name, symbolOf(32)), { maxLength: 30 }),
        fc.array(request, { maxLength: 8 }),
        async ({ elfClass, littleEndian }, syms, names) => {
          const symbols = syms.map(([n, s]) => ({ name: n, ...s }) as ElfSymbolSpec);
          const opts = kernel(elfClass, littleEndian, symbols, 'as-given');
          const r = await fdnlist(new MemorySource(buildElf(opts)), names, {
            acceptedMachines: [{ elfClass, elfMachines: [MACHINE] }],
          });
          const want = nlistModel(modelSymtab(opts), names);
          expect(r.result).toBe(want.result);
          expect(r.entries.map(({ type, value, found }) => ({ type, value, found }))).toEqual(want.entries);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('an unaccepted machine or class is -1 with nothing found', async () => {
    await fc.assert(
      fc.asyncProperty(
        classAndOrder,
        fc.integer({ min: 0, max: 0xffff }).filter((m) => m !== MACHINE),
        fc.array(fc.stringMatching(/^_?[a-z]{1,5}$/), { maxLength: 5 }),
        async ({ elfClass, littleEndian }, machine, names) => {
          const bytes = buildElf(kernel(elfClass, littleEndian, [{ name: 'abc', value: 1n, type: 'object', bind: 'global' }]));
          for (const accepted of [
            [{ elfClass, elfMachines: [machine] }],
            [{ elfClass: (elfClass === 32 ? 64 : 32) as 32 | 64, elfMachines: [MACHINE] }],
          ]) {
            const r = await fdnlist(new MemorySource(bytes), names, { acceptedMachines: accepted });
            expect(r.result).toBe(-1);
            expect(r.reason).toBeTruthy();
            expect(r.entries.every((e) => !e.found && e.value === 0n && e.type === 0)).toBe(true);
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('speed', () => {
  it('100k symbols: a lookup takes well under 200 ms', async () => {
    const symbols: ElfSymbolSpec[] = [];
    for (let i = 0; i < 100_000; i++) {
      symbols.push({ name: `uvm_filler_function_${i}`, value: 0xffffffff80200000n + BigInt(i * 16), type: 'func', bind: i % 3 ? 'global' : 'local' });
    }
    symbols.push({ name: 'dumpmag', value: 0xffffffff80600000n, type: 'object', bind: 'global' });
    const bytes = buildElf(kernel(64, true, symbols));
    const src = new MemorySource(bytes);
    const names = ['_dumpmag', '_version', '_dumpsize', '_dumplo', '_time_second', '_boottime', '_msgbufp', '_uvm_filler_function_99999', '_panicstr', '_hostname'];
    const opts = { acceptedMachines: [{ elfClass: 64 as const, elfMachines: [MACHINE] }] };
    await fdnlist(src, names, opts); // warm-up (JIT)
    // Best of three: one slow run on a loaded machine is noise, three are a regression.
    let ms = Infinity;
    let r = await fdnlist(src, names, opts);
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      r = await fdnlist(src, names, opts);
      ms = Math.min(ms, performance.now() - t0);
    }
    expect(r.result).toBe(8);
    expect(r.entries[0].value).toBe(0xffffffff80600000n);
    expect(r.entries[7].value).toBe(0xffffffff80200000n + 99_999n * 16n);
    expect(ms).toBeLessThan(200);
  });
});
