// savecore's kernel reconstruction (spec 7.7): with ksyms in the dump, netbsd.N is the symbol image
// rebuilt from the dump's ksyms_hdr and ksyms_symtabs, not the -N file; every way that rebuild can
// fail falls back to copying -N, as savecore does, and the run still archives and verifies.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ksymsLayout, patchHeader } from '../../core/ksyms/rebuild.ts';
import { LAYOUTS } from '../fixtures/kernel-layout.ts';
import { dumpsRemovedAfterEach, isInvalidated, messagesOf, NOW, run, sha256 } from './savecore-fixture.ts';

const dump = dumpsRemovedAfterEach();
const BIN = join(import.meta.dirname, '../../bin/kvmdump.mjs');

/** nlist through the real CLI on a file: what an analyst does with the archived netbsd.N. */
function nlistOf(kernel: string, names: string[]): Record<string, string | null> {
  const out = execFileSync(process.execPath, [BIN, 'nlist', '--kernel', kernel, '--json', ...names], { encoding: 'utf8' });
  return (JSON.parse(out) as { symbols: Record<string, string | null> }).symbols;
}

describe('savecore rebuilds netbsd.N from the dump\'s ksyms', () => {
  for (const flavour of ['amd64', 'i386', 'aarch64'] as const) {
    it(`${flavour}: the image is the patched ksyms header, then every table's symbols, then their strings`, async () => {
      const d = dump({ flavour, seed: 31, triage: { ksyms: { modules: 2 } } });
      const ks = d.img.facts.kernelData.ksyms!;
      expect(ks.tables).toBe(3);
      const r = await run(d);
      expect([r.status, r.exitCode]).toEqual(['saved', 0]);
      const kernel = new Uint8Array(readFileSync(join(d.crashDir, 'netbsd.0')));
      expect(kernel.length).toBe(ks.image.length);
      expect(sha256(kernel)).toBe(sha256(ks.image));
      expect(sha256(kernel)).not.toBe(sha256(d.img.kernel));
      expect(messagesOf(r)).toContain(`writing kernel to ${join(d.crashDir, 'netbsd.0')}`);
      expect(isInvalidated(d)).toBe(true);

      // The rebuilt file is a kernel nlist reads: the crashed kernel's symbols and the module's.
      const dumpmag = d.img.facts.kernelData.symbols.find((s) => s.name === 'dumpmag')!.value;
      const mod = ks.moduleSymbols[0]!;
      const found = nlistOf(join(d.crashDir, 'netbsd.0'), ['_dumpmag', `_${mod.name}`, '_no_such_symbol']);
      expect(found).toEqual({ _dumpmag: `0x${dumpmag.toString(16)}`, [`_${mod.name}`]: `0x${mod.value.toString(16)}`, _no_such_symbol: null });
      expect(nlistOf(d.kernel, [`_${mod.name}`])).toEqual({ [`_${mod.name}`]: null });

      const m = JSON.parse(readFileSync(join(d.crashDir, 'netbsd.0.manifest.json'), 'utf8'));
      expect(m.files.kernel).toMatchObject({
        name: 'netbsd.0', source: 'ksyms', size: ks.image.length, sha256: sha256(ks.image), sourceSha256: sha256(ks.image), sourceLength: ks.image.length,
      });
      expect(m.missing.ksymsReconstruction).toMatch(/^done/);
      expect(m.verification.kernel).toMatchObject({ ok: true });
    });
  }

  it('with -z the rebuilt image is gzipped and verified', async () => {
    const d = dump({ flavour: 'amd64', seed: 32, triage: { ksyms: {} } });
    const r = await run(d, { compress: true });
    expect([r.status, r.exitCode]).toEqual(['saved', 0]);
    const kernel = gunzipSync(readFileSync(join(d.crashDir, 'netbsd.0.gz')));
    expect(sha256(kernel)).toBe(sha256(d.img.facts.kernelData.ksyms!.image));
    execFileSync('gzip', ['-t', join(d.crashDir, 'netbsd.0.gz')]);
  });
});

describe('a ksyms rebuild that cannot work falls back to the -N kernel', () => {
  const cases = [
    { corrupt: 'off', warning: null, reason: /ksyms was not in use/ },
    { corrupt: 'unmapped-strings', warning: /^kvm_read: /, reason: /strings at 0x[0-9a-f]+ could not be read/ },
    { corrupt: 'cycle', warning: /table list does not end/, reason: /circular/ },
    { corrupt: 'negative-symsize', warning: null, reason: /negative sd_symsize \(-1\)/ },
  ] as const;
  for (const c of cases) {
    it(`${c.corrupt}: netbsd.N is the -N file, the reason is in the manifest, the dump is still archived`, async () => {
      const d = dump({ flavour: 'i386', seed: 33, triage: { ksyms: { corrupt: c.corrupt } } });
      const r = await run(d);
      expect([r.status, r.exitCode]).toEqual(['saved', 0]);
      expect(sha256(new Uint8Array(readFileSync(join(d.crashDir, 'netbsd.0'))))).toBe(sha256(d.img.kernel));
      const warnings = r.messages.filter((x) => x.priority === 'warning').map((x) => x.message);
      if (c.warning) expect(warnings.some((w) => c.warning.test(w))).toBe(true);
      else expect(warnings.filter((w) => /kvm_read|ksyms/.test(w))).toEqual([]);
      const m = JSON.parse(readFileSync(join(d.crashDir, 'netbsd.0.manifest.json'), 'utf8'));
      expect(m.files.kernel).toMatchObject({ source: 'kernel-file', sha256: sha256(d.img.kernel) });
      expect(m.missing.ksymsReconstruction).toMatch(c.reason);
      expect(isInvalidated(d)).toBe(true);
    });
  }

  it('a kernel without ksyms symbols is copied and the manifest says why', async () => {
    const d = dump({ flavour: 'aarch64', seed: 34 });
    const r = await run(d);
    expect(r.exitCode).toBe(0);
    const m = JSON.parse(readFileSync(join(d.crashDir, 'netbsd.0.manifest.json'), 'utf8'));
    expect(m.files.kernel.source).toBe('kernel-file');
    expect(m.missing.ksymsReconstruction).toMatch(/no ksyms_\* symbols/);
  });
});

describe('the header patch keeps C\'s integer conversions', () => {
  it('ELF64: a negative ksyms_symsz widens to 64 bits; sh_info is the size_t quotient cut to 32 bits', () => {
    const L = ksymsLayout({ elfClass: 64, littleEndian: true, longSize: 8 });
    expect([L.hdrSize, L.shdrOffset, L.symtabSize, L.sdSymsize, L.sdStrsize]).toEqual([656, 120, 112, 60, 64]);
    const hdr = new Uint8Array(L.hdrSize);
    const dv = new DataView(hdr.buffer);
    dv.setBigUint64(120 + 2 * 64 + 24, 656n, true); // SYMTAB sh_offset as ksyms_hdr_init sets it
    patchHeader(hdr, L, -24, 100);
    expect(dv.getBigUint64(248 + 32, true)).toBe(2n ** 64n - 24n); // sh_size
    expect(dv.getUint32(248 + 44, true)).toBe(Number(((2n ** 64n - 24n) / 24n) % 2n ** 32n)); // sh_info
    expect(dv.getBigUint64(312 + 24, true)).toBe(632n); // STRTAB sh_offset = 656 + (-24)
    expect(dv.getBigUint64(312 + 32, true)).toBe(100n);
  });

  it('ELF32 big-endian: fields at the ELF32 offsets, in the dump\'s byte order', () => {
    const L = ksymsLayout({ elfClass: 32, littleEndian: false, longSize: 4 });
    expect([L.hdrSize, L.shdrOffset, L.symtabSize, L.sdSymstart, L.sdStrstart, L.sdSymsize, L.sdStrsize]).toEqual([452, 84, 64, 12, 24, 32, 36]);
    const hdr = new Uint8Array(L.hdrSize);
    const dv = new DataView(hdr.buffer);
    dv.setUint32(84 + 2 * 40 + 16, 452, false);
    patchHeader(hdr, L, 1600, -1);
    expect(dv.getUint32(164 + 20, false)).toBe(1600);
    expect(dv.getUint32(164 + 28, false)).toBe(100);
    expect(dv.getUint32(204 + 16, false)).toBe(2052);
    expect(dv.getUint32(204 + 20, false)).toBe(0xffffffff);
  });

  it('matches the fixture\'s independent layout for every flavour', () => {
    for (const l of Object.values(LAYOUTS)) {
      const L = ksymsLayout({ elfClass: l.elfClass, littleEndian: true, longSize: l.longSize });
      expect(L.hdrSize).toBe(l.elfClass === 64 ? 656 : 452);
    }
  });
});

describe('without -N: the crashed kernel\'s own ksyms, found in the dump, stand in for /dev/ksyms', () => {
  for (const flavour of ['amd64', 'i386', 'aarch64'] as const) {
    it(`${flavour}: saves, rebuilds netbsd.N, verifies, invalidates; a second run finds no dump`, async () => {
      const d = dump({ flavour, seed: 35, triage: { ksyms: { modules: 1 }, panicstr: 'uvm_fault(0xffff, 0, 1) -> e' } });
      const r = await run(d, { kernel: undefined });
      expect(messagesOf(r)).toContain('no kernel file given: symbols from the crashed kernel\'s ksyms in the dump (2 tables)');
      expect(messagesOf(r)).toContain('reboot after panic: uvm_fault(0xffff, 0, 1) -> e');
      expect(messagesOf(r).filter((m) => /version mismatch/.test(m))).toEqual([]);
      expect([r.status, r.exitCode]).toEqual(['saved', 0]);
      expect(sha256(new Uint8Array(readFileSync(join(d.crashDir, 'netbsd.0'))))).toBe(sha256(d.img.facts.kernelData.ksyms!.image));
      expect(isInvalidated(d)).toBe(true);
      const m = JSON.parse(readFileSync(join(d.crashDir, 'netbsd.0.manifest.json'), 'utf8'));
      expect(m.kernel).toMatchObject({ path: null, symbolsFrom: 'the dump\'s own ksyms (no -N given)', version: d.img.facts.kernelData.strings.version });
      expect(m.dump.referenceDumpmag).toBe('0x8fca0101');
      expect(m.files.kernel.source).toBe('ksyms');

      const again = await run(d, { kernel: undefined });
      expect(again.exitCode).toBe(1);
      expect(messagesOf(again)).toContain('no core dump');
    });
  }

  it('no ksyms in the dump: refused before anything is written, saying why and what to do', async () => {
    const d = dump({ flavour: 'amd64', seed: 36 });
    const r = await run(d, { kernel: undefined });
    expect([r.status, r.exitCode]).toEqual(['refused', 1]);
    expect(messagesOf(r)).toContain('no kernel file given, and no ksyms table named "netbsd" in the dump\'s memory: give -N <kernel>');
    expect(existsSync(join(d.crashDir, 'bounds'))).toBe(false);
    expect(isInvalidated(d)).toBe(false);
  });

  it('the CLI runs without -N on a dump with ksyms', () => {
    const d = dump({ flavour: 'i386', seed: 37, triage: { ksyms: {} } });
    const p = spawnSync(process.execPath, [BIN, 'savecore', '--dump-offset', String(d.img.facts.dumpOff), '--now', String(NOW), '--json', d.crashDir, d.device], { encoding: 'utf8' });
    expect(p.stderr).toContain('symbols from the crashed kernel\'s ksyms in the dump');
    expect(p.status).toBe(0);
    expect(JSON.parse(p.stdout)).toMatchObject({ status: 'saved', exitCode: 0 });
    expect(existsSync(join(d.crashDir, 'netbsd.0'))).toBe(true);
  });
});
