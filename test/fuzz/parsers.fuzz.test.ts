// Fuzz targets for every parser of hostile input (issue 9): kcore/CPU segment headers, each
// machine's cpu_kcore_hdr and segment table, page tables, ELF kernels, ksyms state in a dump,
// savecore cores and gzip cores. Every case ends within the time bound with a NetBSD-shaped answer
// or a typed error naming where (offset, field) — never an exception, never a hang.

import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IoError } from '../../core/errno.ts';
import { fdnlist } from '../../core/format/nlist.ts';
import { symbolsFromDump } from '../../core/ksyms/discover.ts';
import { Kvm } from '../../core/kvm.ts';
import { MACHINES } from '../../core/machines/index.ts';
import { MAX_DECODED_SEGMENTS } from '../../core/machines/segment-table.ts';
import { MemorySource, type DumpSource, type SourceKind } from '../../core/source.ts';
import { buildGzipIndex } from '../../core/sources/gzip-index.ts';
import { buildDumpImage } from '../fixtures/dump-image.ts';
import { applyEdits, edits, fuzz } from './harness.ts';

const FLAVOURS = ['amd64', 'i386', 'i386pae', 'aarch64'] as const;
const images = Object.fromEntries(FLAVOURS.map((f) => [f, buildDumpImage({ flavour: f, seed: 23, memMiB: 16 })]));
const pristine = Object.fromEntries(FLAVOURS.map((f) => [f, images[f].toBytes()]));
const withKsyms = buildDumpImage({ flavour: 'amd64', seed: 24, memMiB: 16, triage: { ksyms: { modules: 1 } } });
const withKsymsBytes = withKsyms.toBytes();

/** Bytes up to `data.length`, zeros after, up to a claimed size: a large sparse image in no memory. */
class SparseSource implements DumpSource {
  readonly name = 'sparse';
  constructor(private readonly data: Uint8Array, readonly size: number, readonly kind: SourceKind = 'file') {}
  async pread(buf: Uint8Array, offset: number): Promise<number> {
    if (offset >= this.size) return 0;
    const n = Math.min(buf.length, this.size - offset);
    buf.fill(0, 0, n);
    if (offset < this.data.length) buf.set(this.data.subarray(offset, Math.min(this.data.length, offset + n)));
    return n;
  }
}

/** A failed mkheader/open says what went wrong and where. */
function expectLocatedFailure(kd: Kvm): void {
  expect(kd.geterr()).not.toBe('');
  const f = kd.lastFault;
  expect(f).not.toBeNull();
  expect(f!.offset !== undefined || f!.field !== undefined || f!.errno !== undefined).toBe(true);
}

describe('fuzz: dump headers', () => {
  it('kcore_seg and CPU data: any midmag, c_size and CPU bytes, in images up to 1 GiB', async () => {
    const header = fc.record({
      flavour: fc.constantFrom(...FLAVOURS),
      cSize: fc.oneof(fc.integer({ min: 0, max: 4096 }), fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(0x20000000, 0xffffffff, 0x7fffffff)),
      nmemsegs: fc.oneof(fc.bigInt({ min: 0n, max: 64n }), fc.constant(2n ** 64n - 1n), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
      cpuBytes: fc.uint8Array({ maxLength: 2048 }),
      keepMagic: fc.boolean(),
      sizeMiB: fc.constantFrom(1, 64, 1024),
      kind: fc.constantFrom<SourceKind>('file', 'blockdev', 'chardev'),
    });
    await fuzz('kcore/CPU segment header', header, async (h) => {
      const img = images[h.flavour];
      const at = img.facts.dumpOff;
      const bytes = pristine[h.flavour].slice(0, at + 8 + 4096);
      const dv = new DataView(bytes.buffer);
      if (!h.keepMagic) dv.setUint32(at, (Math.random() * 2 ** 32) >>> 0, false);
      const le = true; // every supported machine is little-endian
      dv.setUint32(at + 4, h.cSize >>> 0, le);
      bytes.set(h.cpuBytes.subarray(0, Math.min(h.cpuBytes.length, bytes.length - at - 8)), at + 8);
      if (h.cpuBytes.length >= 16) dv.setBigUint64(at + 16, h.nmemsegs, le);
      const kd = await Kvm.open({ dump: new SparseSource(bytes, h.sizeMiB << 20, h.kind), kernel: new MemorySource(img.kernel) });
      const r = await kd.mkheader(at);
      expect(r === -1 || r >= 0).toBe(true);
      if (r <= 0) expectLocatedFailure(kd);
      else expect(kd.machine!.segments.length).toBeLessThanOrEqual(MAX_DECODED_SEGMENTS);
    }, 120);
  }, 600_000);

  it("each machine's cpu_kcore_hdr and segment table: open and pa2off never throw", async () => {
    const arb = fc.record({ m: fc.constantFrom(...MACHINES), cpu: fc.uint8Array({ maxLength: 1 << 16 }), pa: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) });
    await fuzz('cpu_kcore_hdr and segment tables', arb, async ({ m, cpu, pa }) => {
      const st = m.open(cpu);
      expect(st.segments.length).toBeLessThanOrEqual(MAX_DECODED_SEGMENTS);
      expect(st.segmentCount).toBeGreaterThanOrEqual(st.segments.length);
      expect(Number.isFinite(st.pa2off(pa))).toBe(true);
    }, 300);
  }, 600_000);
});

describe('fuzz: page tables', () => {
  it('damaged, cyclic and out-of-memory entries: kvatop and read end with a count or a message', async () => {
    const arb = fc.record({
      flavour: fc.constantFrom(...FLAVOURS),
      list: edits(32),
      /** Make an entry point back at its own table (a cycle) or far outside memory. */
      trick: fc.constantFrom('none', 'cycle', 'outside'),
    });
    await fuzz('page tables', arb, async ({ flavour, list, trick }) => {
      const img = images[flavour];
      const bytes = pristine[flavour].slice();
      const { tablePages } = img.facts.pageTables;
      const fileOfPa = (pa: bigint) => {
        let off = 0;
        for (const s of img.facts.segments) {
          if (pa >= s.start && pa < s.start + s.size) return img.facts.memOff + off + Number(pa - s.start);
          off += Number(s.size);
        }
        return -1;
      };
      for (const [o, v] of list) {
        const page = tablePages[o % tablePages.length];
        const at = fileOfPa(page + BigInt((o >> 5) % 4096));
        if (at >= 0) bytes[at] = v;
        if (trick !== 'none' && at >= 0) {
          const size = img.facts.layout.longSize === 8 || flavour === 'i386pae' ? 8 : 4;
          const slot = at - ((at - img.facts.memOff) % size);
          const target = trick === 'cycle' ? page | 3n : (1n << 40n) | 3n;
          const dv = new DataView(bytes.buffer);
          if (size === 8) dv.setBigUint64(slot, target, true);
          else dv.setUint32(slot, Number(target & 0xffffffffn), true);
        }
      }
      const kd = await Kvm.open({ dump: new MemorySource(bytes), kernel: new MemorySource(img.kernel) });
      expect(await kd.mkheader(img.facts.dumpOff)).toBe(img.facts.headerSize);
      for (const sym of Object.values(img.facts.symbols)) {
        const tr = await kd.kvatop(sym.va);
        if (tr.cc === 0) expect(kd.geterr()).not.toBe('');
        const n = await kd.read(sym.va, new Uint8Array(32));
        expect(n).toBeGreaterThanOrEqual(-1);
      }
    }, 80);
  }, 600_000);
});

describe('fuzz: ELF kernels', () => {
  it('truncated, overlapping, absurd counts, bad string offsets: nlist answers or says why', async () => {
    const arb = fc.record({
      flavour: fc.constantFrom(...FLAVOURS),
      cut: fc.option(fc.nat(), { nil: undefined }),
      headerEdits: edits(12),
      tableEdits: edits(24),
    });
    await fuzz('ELF kernels', arb, async ({ flavour, cut, headerEdits, tableEdits }) => {
      const k = images[flavour].kernel.slice();
      // Past e_ident/e_type/e_machine/e_version (damage there is refused at once): e_phoff, e_shoff,
      // e_shentsize, e_shnum, e_shstrndx — the fields that steer the parser.
      if (headerEdits.length % 3 !== 0) applyEdits(k, 0x18, 64 - 0x18, headerEdits);
      const dv = new DataView(k.buffer);
      const is64 = k[4] === 2;
      const shoff = Number(is64 ? dv.getBigUint64(0x28, true) : BigInt(dv.getUint32(0x20, true)));
      if (shoff < k.length) applyEdits(k, shoff, k.length - shoff, tableEdits); // section headers
      const bytes = cut === undefined ? k : k.subarray(0, cut % (k.length + 1));
      const nl = await fdnlist(new MemorySource(bytes), ['_dumpmag', '_version', '_nosuch'], { acceptedMachines: MACHINES });
      expect([-1, 0, 1, 2, 3]).toContain(nl.result);
      if (nl.result === -1) expect(nl.reason ?? '').not.toBe('');
    }, 250);
  }, 600_000);
});

describe('fuzz: ksyms state in a dump', () => {
  it('damaged ksyms_symtabs, headers and tables: the search gives symbols or a reason', async () => {
    const ks = withKsyms.facts.kernelData.ksyms!;
    expect(ks).toBeDefined();
    const region = withKsyms.facts.symbols.ksyms_symtabs ?? withKsyms.facts.symbols.ksyms_hdr;
    const arb = fc.record({ list: edits(24), wide: fc.boolean() });
    await fuzz('ksyms state', arb, async ({ list, wide }) => {
      const bytes = withKsymsBytes.slice();
      const start = region ? region.fileOff : withKsyms.facts.memOff;
      applyEdits(bytes, start, wide ? 1 << 20 : 256, list);
      const kd = await Kvm.open({ dump: new MemorySource(bytes), kernel: null });
      expect(await kd.mkheader(withKsyms.facts.dumpOff)).toBe(withKsyms.facts.headerSize);
      const r = await symbolsFromDump(kd);
      if (!r.ok) expect(r.reason).not.toBe('');
    }, 30);
  }, 600_000);
});

describe('fuzz: savecore cores and gzip cores', () => {
  const img = images.amd64;
  let core: Uint8Array;
  it('format-B core headers: open and read never throw', async () => {
    const kd0 = await Kvm.open({ dump: new MemorySource(pristine.amd64), kernel: new MemorySource(img.kernel) });
    expect(await kd0.mkheader(img.facts.dumpOff)).toBe(img.facts.headerSize);
    const chunks: Uint8Array[] = [];
    expect(await kd0.wrtheader({ write: async (c) => void chunks.push(c.slice()) }, img.facts.dumpsizePages * 4096)).toBeGreaterThan(0);
    const hdr = Buffer.concat(chunks);
    core = new Uint8Array(Buffer.concat([hdr, pristine.amd64.subarray(img.facts.memOff, img.facts.memOff + (2 << 20))]));
    await fuzz('savecore core header', edits(16), async (list) => {
      const bytes = core.slice();
      applyEdits(bytes, 0, hdr.length, list);
      const kd = await Kvm.open({ dump: new MemorySource(bytes), kernel: new MemorySource(img.kernel) });
      const n = await kd.read(img.facts.symbols.dumpmag.va, new Uint8Array(8));
      expect(n).toBeGreaterThanOrEqual(-1);
      if (!kd.hasHeader) {
        // A core whose generic header no longer loads is read as a dump device: mkheader at 0 decides.
        const r = await kd.mkheader(0);
        expect(r === -1 || r >= 0).toBe(true);
        if (r <= 0) expect(kd.geterr()).not.toBe('');
      }
    }, 150);
  }, 600_000);

  it('gzip cores: corrupt members are an IoError naming the compressed offset', async () => {
    const gz = new Uint8Array(gzipSync(pristine.amd64.subarray(0, 1 << 20), { level: 1 }));
    await fuzz('gzip core', fc.record({ list: edits(8), cut: fc.option(fc.nat(), { nil: undefined }) }), async ({ list, cut }) => {
      const bytes = gz.slice();
      applyEdits(bytes, 0, bytes.length, list);
      const src = new MemorySource(cut === undefined ? bytes : bytes.subarray(0, cut % bytes.length));
      try {
        const idx = await buildGzipIndex(src);
        expect(idx.size).toBeGreaterThanOrEqual(0);
      } catch (e) {
        expect(e).toBeInstanceOf(IoError);
        expect((e as IoError).message).toMatch(/offset|truncated|gzip|empty|CRC|length|size|member|block|code|distance/i);
      }
    }, 150);
  }, 600_000);
});
