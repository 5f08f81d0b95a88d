import { describe, expect, it } from 'vitest';
import { Kvm } from '../../core/kvm.ts';
import { MemorySource } from '../../core/source.ts';
import { buildDumpImage } from '../fixtures/dump-image.ts';
import { toHex } from '../../core/format/bytes.ts';

describe('smoke', () => {
  for (const flavour of ['amd64', 'i386', 'i386pae', 'aarch64'] as const) {
    it(flavour, async () => {
      const img = buildDumpImage({ flavour, seed: 3 });
      const kd = await Kvm.open({ dump: new MemorySource(img.toBytes()), kernel: new MemorySource(img.kernel) });
      const h = await kd.mkheader(img.facts.dumpOff);
      expect(kd.geterr()).toBe('');
      expect(h).toBe(img.facts.headerSize);
      expect(kd.machine?.name).toBe(flavour);
      for (const [name, sym] of Object.entries(img.facts.symbols)) {
        const buf = new Uint8Array(sym.bytes.length);
        const n = await kd.read(sym.va, buf);
        expect([name, n, kd.geterr()]).toEqual([name, sym.bytes.length, '']);
        expect([name, toHex(buf)]).toEqual([name, toHex(sym.bytes)]);
        const tr = await kd.kvatop(sym.va);
        expect([name, kd.pa2off(tr.pa)]).toEqual([name, sym.fileOff]);
      }
      const nl = await kd.nlist(['_dumpmag', 'version', '_hostname']);
      expect(nl.result).toBe(0);
      expect(await kd.inval()).toBe(0);
      expect(kd.lastInval).toEqual({ offset: img.facts.symbols.dumpmag.fileOff, length: img.facts.layout.longSize });
    });
  }
});
