// Cross-check against the shared generator's kernels (mkdump.py): fdnlist must give every
// manifest symbol's VA, and the manifest's nlist_quirk_lists must behave as spec 6.3 says.
// Skipped (with the reason in the test name) on a clone without ../shared.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listSymbols, readElfHeader, readElfVirtual } from '../../core/format/elf.ts';
import { fdnlist, type AcceptedMachine } from '../../core/format/nlist.ts';
import { EM_386, EM_AARCH64, EM_X86_64, nlistModel, type ModelSymbol } from '../fixtures/elf.ts';
import { FileSource } from '../fixtures/file-source.ts';
import { MKDUMP_DIR } from '../conformance/support/mkdump.ts';

const MKDUMP = join(MKDUMP_DIR, 'mkdump.py');
const available = existsSync(MKDUMP);

interface ManifestSymbol {
  name: string;
  section: string;
  bind: 'local' | 'global';
  type: 'object' | 'func' | 'notype';
  va: string;
  value_hex?: string;
}

interface Manifest {
  arch: string;
  symbols: ManifestSymbol[];
  elf: { symtab_nsyms: number; symtab_index: Record<string, number> };
  nlist_quirk_lists: string[][];
}

const ARCHES: { arch: string; args: string[]; accepted: AcceptedMachine[]; elfClass: 32 | 64 }[] = [
  { arch: 'amd64', args: [], accepted: [{ elfClass: 32, elfMachines: [EM_386] }, { elfClass: 64, elfMachines: [EM_X86_64] }], elfClass: 64 },
  { arch: 'i386', args: ['--arch', 'i386'], accepted: [{ elfClass: 32, elfMachines: [EM_386] }], elfClass: 32 },
  { arch: 'aarch64', args: ['--arch', 'aarch64'], accepted: [{ elfClass: 32, elfMachines: [] }, { elfClass: 64, elfMachines: [EM_AARCH64] }], elfClass: 64 },
];

const N_DATA = 6;
const N_EXT = 1;

describe.skipIf(!available)(`mkdump.py cross-check${available ? '' : ` (skipped: ${MKDUMP} not found)`}`, () => {
  describe.each(ARCHES)('$arch --seed 3', ({ args, accepted, elfClass }) => {
    let dir: string;
    let manifest: Manifest;
    let kernel: FileSource;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'elf-mkdump-'));
      execFileSync('python3', [MKDUMP, '--out', dir, '--seed', '3', ...args], { stdio: 'pipe' });
      manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
      kernel = await FileSource.open(join(dir, 'netbsd'));
    });
    afterAll(async () => {
      await kernel?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const va = (s: ManifestSymbol) => BigInt(s.va);
    const symbol = (name: string, bind?: string) =>
      manifest.symbols.find((s) => s.name === name && (bind === undefined || s.bind === bind))!;

    /** The symtab in file order: null + FILE + section symbols (unnamed here), then the manifest's. */
    function symtabModel(): ModelSymbol[] {
      const lead = manifest.elf.symtab_nsyms - manifest.symbols.length;
      const unnamed: ModelSymbol[] = Array.from({ length: lead }, () => ({ name: '', value: 0n, type: 'notype', bind: 'local' }));
      return [...unnamed, ...manifest.symbols.map((s) => ({ name: s.name, value: va(s), type: s.type, bind: s.bind }))];
    }

    it('is the expected ELF class', async () => {
      const h = await readElfHeader(kernel);
      expect(h.ok && h.header.elfClass).toBe(elfClass);
    });

    it('manifest symbol order is the symtab order (checked against elf.symtab_index)', () => {
      const model = symtabModel();
      for (const [key, index] of Object.entries(manifest.elf.symtab_index)) {
        const [, name, bind] = /^(.*)\((\w+)\)$/.exec(key)!;
        expect(model[index]).toMatchObject({ name, bind });
      }
    });

    it('finds every uniquely named symbol at its VA', async () => {
      const counts = new Map<string, number>();
      for (const s of manifest.symbols) counts.set(s.name, (counts.get(s.name) ?? 0) + 1);
      const unique = manifest.symbols.filter((s) => counts.get(s.name) === 1);
      // '_' + name: exactly one underscore is stripped, so "_end" is asked for as "__end".
      const r = await fdnlist(kernel, unique.map((s) => '_' + s.name), { acceptedMachines: accepted });
      expect(r.result).toBe(0);
      unique.forEach((s, i) => expect(r.entries[i], s.name).toMatchObject({ found: true, value: va(s) }));
    });

    it('listSymbols gives the manifest symbols in order', async () => {
      const listed = await listSymbols(kernel);
      const named = listed.filter((s) => s.name !== 'netbsd.ksyms');
      expect(named.map((s) => [s.name, s.value])).toEqual(manifest.symbols.map((s) => [s.name, va(s)]));
    });

    it("quirk list ['_dup_sym', '_dumpmag']: the duplicate exhausts the count, dumpmag stays unfound", async () => {
      const list = manifest.nlist_quirk_lists[0];
      expect(list).toEqual(['_dup_sym', '_dumpmag']);
      const idx = manifest.elf.symtab_index;
      expect(idx['dup_sym(local)']).toBeLessThan(idx['dup_sym(global)']);
      expect(idx['dup_sym(global)']).toBeLessThan(idx['dumpmag(global)']);
      const r = await fdnlist(kernel, list, { acceptedMachines: accepted });
      // By hand (spec 6.3 step 10): nent 2 → local dup_sym (1) → global dup_sym (0): stop.
      expect(r.result).toBe(0);
      expect(r.entries).toEqual([
        { name: '_dup_sym', type: N_DATA | N_EXT, value: va(symbol('dup_sym', 'global')), found: true },
        { name: '_dumpmag', type: 0, value: 0n, found: false },
      ]);
    });

    it('quirk list 2: underscores and repeated wants', async () => {
      const list = manifest.nlist_quirk_lists[1];
      expect(list).toEqual(['end', '_end', '__end', 'dumpmag', '_dumpmag', '__dumpmag', 'no_such_symbol']);
      const r = await fdnlist(kernel, list, { acceptedMachines: accepted });
      // Wants: end, end, _end, dumpmag, dumpmag, _dumpmag, no_such_symbol. Each of the symbols
      // "end", "_end", "dumpmag" exists once and updates the first entry wanting it: 3 matches.
      expect(r.result).toBe(4);
      expect(r.entries.map((e) => e.found)).toEqual([true, false, true, true, false, false, false]);
      expect(r.entries[0]).toMatchObject({ value: va(symbol('end')), type: N_EXT });
      expect(r.entries[2]).toMatchObject({ value: va(symbol('_end')), type: N_EXT });
      expect(r.entries[3]).toMatchObject({ value: va(symbol('dumpmag')), type: N_DATA | N_EXT });
    });

    it('every quirk list agrees with the spec model over the manifest symtab', async () => {
      for (const list of manifest.nlist_quirk_lists) {
        const r = await fdnlist(kernel, list, { acceptedMachines: accepted });
        const want = nlistModel(symtabModel(), list);
        expect(r.result).toBe(want.result);
        expect(r.entries.map(({ type, value, found }) => ({ type, value, found }))).toEqual(want.entries);
      }
    });

    it("reads the image's own dumpmag and version through PT_LOAD", async () => {
      for (const name of ['dumpmag', 'version']) {
        const s = symbol(name);
        const expected = Buffer.from(s.value_hex!, 'hex');
        const got = await readElfVirtual(kernel, va(s), expected.length);
        expect(got && Buffer.from(got).toString('hex'), name).toBe(s.value_hex);
      }
      const hostname = symbol('hostname');
      expect(hostname.section).toBe('.bss');
      expect(await readElfVirtual(kernel, va(hostname), 256)).toEqual(new Uint8Array(256));
    });
  });
});
