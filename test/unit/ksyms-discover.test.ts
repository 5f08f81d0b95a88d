// Symbols without a kernel file: the crashed kernel's ksyms table is found in the dump's memory,
// and the image rebuilt from it (what savecore writes as netbsd.N) serves nlist — for every
// supported machine, with module tables, and with a clear "not found" when the dump has no ksyms.

import { describe, expect, it } from 'vitest';
import { dumpView } from '../../core/kvm/view.ts';
import { findKernelSymtab, symbolsFromDump } from '../../core/ksyms/discover.ts';
import { Kvm } from '../../core/kvm.ts';
import { MemorySource } from '../../core/source.ts';
import { buildDumpImage, type DumpImageOptions } from '../fixtures/dump-image.ts';

async function openWithoutKernel(opts: DumpImageOptions) {
  const img = buildDumpImage(opts);
  const kd = await Kvm.open({ dump: new MemorySource(img.toBytes()), kernel: null });
  expect(await kd.mkheader(img.facts.dumpOff)).toBe(img.facts.headerSize);
  return { img, kd };
}

describe('the kernel\'s ksyms table, found in the dump', () => {
  for (const flavour of ['amd64', 'i386', 'i386pae', 'aarch64'] as const) {
    it(`${flavour}: found at its physical address; the rebuilt image equals savecore's netbsd.N and answers nlist`, async () => {
      const { img, kd } = await openWithoutKernel({ flavour, seed: 41, triage: { ksyms: { modules: 1 } } });
      const ks = img.facts.kernelData.ksyms!;
      const table = await findKernelSymtab(dumpView(kd));
      const l = img.facts.layout;
      expect(table?.pa).toBe(l.data.pa + 0x100000n); // the fixture's first struct ksyms_symtab
      expect(table?.symsize).toBe((img.facts.kernelData.symbols.filter((s) => s.type !== 'section').length + 1) * (l.elfClass === 64 ? 24 : 16));

      const r = await symbolsFromDump(dumpView(kd));
      if (!r.ok) throw new Error(r.reason);
      expect(r.tables).toBe(2);
      expect(Buffer.from(r.image).equals(Buffer.from(ks.image))).toBe(true);

      expect((await kd.nlist(['_dumpmag'])).result).toBe(-1); // no kernel file: no namelist yet
      kd.useNamelist(new MemorySource(r.image));
      const nl = await kd.nlist(['_dumpmag', '_version', `_${ks.moduleSymbols[0]!.name}`]);
      expect(nl.result).toBe(0);
      expect(nl.entries.map((e) => e.value)).toEqual([
        img.facts.symbols.dumpmag!.va, img.facts.symbols.version!.va, ks.moduleSymbols[0]!.value,
      ]);
      // and through translation, dumpmag reads the kernel's magic
      const mag = new Uint8Array(4);
      expect(await kd.read(nl.entries[0]!.value, mag)).toBe(4);
      expect(Array.from(mag)).toEqual([0x01, 0x01, 0xca, 0x8f]);
    });
  }

  it('a kernel file, when given, stays the namelist', async () => {
    const img = buildDumpImage({ flavour: 'amd64', seed: 42, triage: { ksyms: {} } });
    const kd = await Kvm.open({ dump: new MemorySource(img.toBytes()), kernel: new MemorySource(img.kernel) });
    kd.useNamelist(new MemorySource(new Uint8Array(16)));
    expect((await kd.nlist(['_dumpmag'])).result).toBe(0);
  });

  it('a dump without ksyms: not found, with the reason, after reading all of memory once', async () => {
    const { img, kd } = await openWithoutKernel({ flavour: 'i386', seed: 43 });
    let last = 0;
    const r = await symbolsFromDump(dumpView(kd), { onProgress: (done) => (last = done) });
    expect(r).toEqual({ ok: false, reason: 'no ksyms table named "netbsd" in the dump\'s memory' });
    expect(last).toBe(img.facts.segments.reduce((n, s) => n + Number(s.size), 0));
  });

  it('ksyms state the rebuild cannot use (strings unmapped) is reported, not thrown', async () => {
    const { kd } = await openWithoutKernel({ flavour: 'amd64', seed: 44, triage: { ksyms: { corrupt: 'unmapped-strings' } } });
    const r = await symbolsFromDump(dumpView(kd));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/no ksyms table|could not be rebuilt/);
  });

  it('a cancelled search stops', async () => {
    const { kd } = await openWithoutKernel({ flavour: 'amd64', seed: 45 });
    const ctl = new AbortController();
    ctl.abort();
    await expect(findKernelSymtab(dumpView(kd), { signal: ctl.signal })).rejects.toThrow();
  });
});
