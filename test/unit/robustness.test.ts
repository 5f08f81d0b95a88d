// Bad input never crashes and never hangs: random damage to a dump's header, page tables and
// kernel image still gives NetBSD-shaped results (numbers and error text), never an exception.
import { describe, expect, it } from 'vitest';
import { dumpView } from '../../core/kvm/view.ts';
import fc from 'fast-check';
import { Kvm } from '../../core/kvm.ts';
import { fdnlist } from '../../core/format/nlist.ts';
import { MACHINES } from '../../core/machines/index.ts';
import { scanForDumps } from '../../core/scan.ts';
import { MemorySource, type SourceKind } from '../../core/source.ts';
import { buildDumpImage } from '../fixtures/dump-image.ts';

const FLAVOURS = ['amd64', 'i386', 'i386pae', 'aarch64'] as const;
const images = Object.fromEntries(FLAVOURS.map((f) => [f, buildDumpImage({ flavour: f, seed: 17, memMiB: 16 })]));
const pristine = Object.fromEntries(FLAVOURS.map((f) => [f, images[f].toBytes()]));

/** Byte damage: (offset relative to a region, new value) pairs. */
const damage = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 24 });

describe('random damage never throws', () => {
  it('to the CPU segment header and CPU data: mkheader, read, kvatop, inval, wrtheader', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...FLAVOURS), damage, fc.constantFrom<SourceKind>('file', 'blockdev', 'chardev'), async (flavour, edits, kind) => {
        const img = images[flavour];
        const bytes = pristine[flavour].slice();
        for (const [off, v] of edits) bytes[img.facts.dumpOff + (off % 512)] = v;
        const kd = await Kvm.open({ dump: new MemorySource(bytes, 'dump', kind), kernel: new MemorySource(img.kernel) });
        const h = await kd.mkheader(img.facts.dumpOff);
        expect(h === -1 || h >= 0).toBe(true);
        if (h <= 0) expect(kd.geterr()).not.toBe('');
        const buf = new Uint8Array(64);
        for (const sym of ['dumpmag', 'hostname', 'version'] as const) {
          const n = await kd.read(img.facts.symbols[sym].va, buf);
          expect(n).toBeGreaterThanOrEqual(-1);
          expect(n).toBeLessThanOrEqual(64);
        }
        expect([0, -1]).toContain(await kd.inval());
        const sinkBytes: number[] = [];
        const w = await kd.wrtheader({ write: async (c) => void sinkBytes.push(c.length) }, 4096);
        expect(w === -1 || w > 0).toBe(true);
      }),
      { numRuns: 150 },
    );
  }, 120_000);

  it('to the page tables: translation fails with a message or lands somewhere, never throws', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...FLAVOURS), damage, async (flavour, edits) => {
        const img = images[flavour];
        const bytes = pristine[flavour].slice();
        const tables = img.facts.pageTables.tablePages;
        for (const [off, v] of edits) {
          const pa = tables[off % tables.length] + BigInt((off >> 4) % 4096);
          const at = img.facts.memOff + Number(pa - img.facts.segments.find((s) => pa >= s.start && pa < s.start + s.size)!.start)
            + img.facts.segments.filter((s) => s.start + s.size <= pa).reduce((n, s) => n + Number(s.size), 0);
          if (at < bytes.length) bytes[at] = v;
        }
        const kd = await Kvm.open({ dump: new MemorySource(bytes), kernel: new MemorySource(img.kernel) });
        expect(await kd.mkheader(img.facts.dumpOff)).toBe(img.facts.headerSize);
        for (const sym of Object.values(img.facts.symbols)) {
          const tr = await kd.kvatop(sym.va);
          if (tr.cc === 0) expect(tr.pa).toBe(0xffffffffffffffffn);
          const n = await kd.read(sym.va, new Uint8Array(sym.bytes.length));
          expect(n).toBeGreaterThanOrEqual(-1);
        }
      }),
      { numRuns: 100 },
    );
  }, 120_000);

  it('to the kernel ELF: nlist returns a count or -1, never throws', async () => {
    const kernel = images.amd64.kernel;
    await fc.assert(
      fc.asyncProperty(damage, fc.boolean(), async (edits, truncate) => {
        const bytes = kernel.slice(0, truncate ? Math.max(1, edits[0][0] % kernel.length) : kernel.length);
        for (const [off, v] of edits) bytes[off % bytes.length] = v;
        const r = await fdnlist(new MemorySource(bytes), ['_dumpmag', 'version', 'hostname'], { acceptedMachines: MACHINES });
        expect(r.result).toBeGreaterThanOrEqual(-1);
        expect(r.entries).toHaveLength(3);
        if (r.result === -1) expect(r.reason).toBeTruthy();
      }),
      { numRuns: 300 },
    );
  }, 120_000);

  it('scan of random bytes with the magic sprinkled in terminates and reports only plausible headers', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 4096, maxLength: 65536 }), fc.array(fc.nat(), { maxLength: 16 }), async (noise, spots) => {
        const bytes = noise.slice();
        for (const s of spots) {
          const at = (s % Math.floor(bytes.length / 512)) * 512;
          bytes.set([0x04, 0x9d, 0x8f, 0xca], at);
        }
        for (const c of await scanForDumps(new MemorySource(bytes), { chunkSize: 4096 })) {
          expect(c.offset % 512).toBe(0);
          expect(c.headerSize % 512).toBe(0);
        }
      }),
      { numRuns: 100 },
    );
  }, 120_000);
});

describe('random damage to a dump\'s ksyms state never throws', () => {
  const withKsyms = Object.fromEntries(FLAVOURS.map((f) => [f, buildDumpImage({ flavour: f, seed: 18, memMiB: 16, triage: { ksyms: { modules: 1 } } })]));
  const ksymsBytes = Object.fromEntries(FLAVOURS.map((f) => [f, withKsyms[f].toBytes()]));
  it('finding the kernel table and rebuilding the image: a result or a reason, never an exception', async () => {
    const { symbolsFromDump } = await import('../../core/ksyms/discover.ts');
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...FLAVOURS), damage, async (flavour, edits) => {
        const img = withKsyms[flavour];
        const bytes = ksymsBytes[flavour].slice();
        // The ksyms area (table structs, names, symbols, strings) and the .data variables.
        const areaPa = img.facts.layout.data.pa + 0x100000n;
        const segs = img.facts.segments;
        const i = segs.findIndex((s) => areaPa >= s.start && areaPa < s.start + s.size);
        const areaOff = img.facts.memOff + segs.slice(0, i).reduce((n, s) => n + Number(s.size), 0) + Number(areaPa - segs[i]!.start);
        expect(bytes.subarray(areaOff, areaOff + 8).some((b) => b !== 0)).toBe(true); // really the table area
        const hdrOff = img.facts.symbols.ksyms_hdr!.fileOff;
        for (const [off, v] of edits) bytes[off % 2 ? areaOff + (off % 16384) : hdrOff + (off % 1024)] = v;
        const kd = await Kvm.open({ dump: new MemorySource(bytes), kernel: null });
        expect(await kd.mkheader(img.facts.dumpOff)).toBe(img.facts.headerSize);
        const r = await symbolsFromDump(dumpView(kd));
        if (r.ok) expect(r.image.length).toBeGreaterThan(0);
        else expect(r.reason).not.toBe('');
      }),
      { numRuns: 60 },
    );
  }, 120_000);
});
