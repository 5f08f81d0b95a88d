// Fuzz targets for every parser of hostile input (issue 9): kcore/CPU segment headers, each
// machine's cpu_kcore_hdr and segment table, page tables, ELF kernels, ksyms state in a dump,
// savecore cores and gzip cores, partition maps (GPT, MBR chains, disklabels) and E01 images. Every case ends within the time bound with a NetBSD-shaped answer
// or a typed error naming where (offset, field) — never an exception, never a hang.

import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IoError } from '../../core/errno.ts';
import { fdnlist } from '../../core/format/nlist.ts';
import { symbolsFromDump } from '../../core/ksyms/discover.ts';
import { Kvm } from '../../core/kvm.ts';
import { dumpView } from '../../core/kvm/view.ts';
import { MACHINES } from '../../core/machines/index.ts';
import { MAX_DECODED_SEGMENTS } from '../../core/machines/segment-table.ts';
import { MemorySource, type DumpSource, type SourceKind } from '../../core/source.ts';
import { buildGzipIndex } from '../../core/sources/gzip-index.ts';
import { buildDumpImage } from '../fixtures/dump-image.ts';
import { applyEdits, edits, fuzz } from './harness.ts';
import { crc32 } from '../../core/partitions/crc32.ts';
import { guidBytes, locateDumps, readPartitionMap } from '../../core/partitions/index.ts';
import { EwfError, EwfSource } from '../../core/e01/ewf.ts';
import { encodeDiskLabel } from '../fixtures/disklabel.ts';
import { fixDescriptorChecksums, writeEwf } from '../fixtures/ewf-writer.ts';

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

/**
 * The memory source with a gather read that hands back at most 37 slots per call, as a file
 * source giving its caller a turn does: the sector-probe search must find what the chunked one finds.
 */
class GatherSource extends MemorySource {
  async preadEach(buf: Uint8Array, offsets: readonly number[], length: number): Promise<number> {
    let i = 0;
    for (; i < Math.min(offsets.length, 37); i++) {
      if ((await this.pread(buf.subarray(i * length, (i + 1) * length), offsets[i]!)) !== length) break;
    }
    return i;
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
      const r = await symbolsFromDump(dumpView(kd));
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

describe('fuzz: partition maps', () => {
  // Three valid maps in memory — GPT (CRCs right), MBR with an extended chain and a NetBSD 0xA9
  // partition holding a disklabel, a bare disklabel — each with a dump at the end of its swap
  // partition; the fuzzer edits the map sectors, and may put the checksums right again so the
  // parsers get past them to the fields behind.
  const SIZE = 24 << 20;
  const dumpImg = buildDumpImage({ flavour: 'amd64', seed: 25, memMiB: 4 });
  const dumpBytes = dumpImg.toBytes();

  function placeAtEnd(disk: Uint8Array, startLba: number, sectors: number): void {
    const mem = dumpImg.facts.dumpsizePages * 4096;
    const dumplo = sectors - (1 + mem / 512);
    const src = dumpBytes.subarray(dumpImg.facts.dumpOff, dumpImg.facts.dumpOff + 512 + mem);
    disk.set(src, (startLba + dumplo) * 512);
  }
  function mbrEntry(disk: Uint8Array, lba: number, i: number, type: number, start: number, sectors: number): void {
    const dv = new DataView(disk.buffer);
    disk[lba * 512 + 446 + 16 * i + 4] = type;
    dv.setUint32(lba * 512 + 446 + 16 * i + 8, start, true);
    dv.setUint32(lba * 512 + 446 + 16 * i + 12, sectors, true);
    disk[lba * 512 + 510] = 0x55;
    disk[lba * 512 + 511] = 0xaa;
  }
  function fixGpt(disk: Uint8Array): void {
    const dv = new DataView(disk.buffer);
    const n = Math.min(dv.getUint32(512 + 80, true), 128);
    const es = Math.min(dv.getUint32(512 + 84, true), 512);
    dv.setUint32(512 + 88, crc32(disk.subarray(1024, 1024 + n * es)), true);
    dv.setUint32(512 + 16, 0, true);
    const hs = Math.min(Math.max(dv.getUint32(512 + 12, true), 92), 512);
    dv.setUint32(512 + 16, crc32(disk.subarray(512, 512 + hs)), true);
  }
  function fixLabel(disk: Uint8Array, at: number): void {
    const dv = new DataView(disk.buffer);
    const n = Math.min(dv.getUint16(at + 138, true), 22);
    dv.setUint16(at + 136, 0, true);
    let x = 0;
    for (let i = 0; i < (148 + 16 * n) / 2; i++) x ^= dv.getUint16(at + 2 * i, true);
    dv.setUint16(at + 136, x, true);
  }
  function gptDisk(): Uint8Array {
    const disk = new Uint8Array(SIZE);
    const lbas = SIZE / 512;
    mbrEntry(disk, 0, 0, 0xee, 1, lbas - 1);
    const dv = new DataView(disk.buffer);
    disk.set(new TextEncoder().encode('EFI PART'), 512);
    dv.setUint32(512 + 8, 0x10000, true);
    dv.setUint32(512 + 12, 92, true);
    dv.setBigUint64(512 + 24, 1n, true);
    dv.setBigUint64(512 + 32, BigInt(lbas - 1), true);
    dv.setBigUint64(512 + 40, 34n, true);
    dv.setBigUint64(512 + 48, BigInt(lbas - 34), true);
    dv.setBigUint64(512 + 72, 2n, true);
    dv.setUint32(512 + 80, 128, true);
    dv.setUint32(512 + 84, 128, true);
    const parts = [
      { type: guidBytes('49f48d5a-b10e-11dc-b99b-0019d1879648'), first: 2048, last: 8191 },
      { type: guidBytes('49f48d32-b10e-11dc-b99b-0019d1879648'), first: 8192, last: lbas - 34 },
    ];
    parts.forEach((p, i) => {
      const e = 1024 + 128 * i;
      disk.set(p.type, e);
      disk[e + 16] = i + 1;
      dv.setBigUint64(e + 32, BigInt(p.first), true);
      dv.setBigUint64(e + 40, BigInt(p.last), true);
      new TextEncoder().encode(i ? 'swap' : 'root').forEach((c, j) => dv.setUint16(e + 56 + 2 * j, c, true));
    });
    fixGpt(disk);
    placeAtEnd(disk, 8192, lbas - 34 - 8192 + 1);
    return disk;
  }
  function mbrDisk(): Uint8Array {
    const disk = new Uint8Array(SIZE);
    const lbas = SIZE / 512;
    mbrEntry(disk, 0, 0, 0x05, 64, 2048);
    mbrEntry(disk, 64, 0, 0x83, 1, 1000);
    mbrEntry(disk, 64, 1, 0x05, 1024, 1024);
    mbrEntry(disk, 64 + 1024, 0, 0x82, 1, 1000);
    mbrEntry(disk, 0, 1, 0xa9, 4096, lbas - 4096);
    disk.set(encodeDiskLabel([{ offset: 4096, size: 2048, fstype: 7 }, { offset: 6144, size: lbas - 6144, fstype: 1 }, { offset: 4096, size: lbas - 4096, fstype: 0 }]), (4096 + 1) * 512);
    placeAtEnd(disk, 6144, lbas - 6144);
    return disk;
  }
  function labelDisk(): Uint8Array {
    const disk = new Uint8Array(SIZE);
    const lbas = SIZE / 512;
    disk.set(encodeDiskLabel([{ offset: 64, size: 2048, fstype: 7 }, { offset: 2112, size: lbas - 2112, fstype: 1 }, { offset: 0, size: lbas, fstype: 0 }]), 512);
    placeAtEnd(disk, 2112, lbas - 2112);
    return disk;
  }
  const bases = { gpt: gptDisk(), mbr: mbrDisk(), label: labelDisk() };

  it('the pristine maps parse and their dumps are found', async () => {
    for (const [k, disk] of Object.entries(bases)) {
      const src = new MemorySource(disk);
      const map = await readPartitionMap(src);
      expect(map.warnings, k).toEqual([]);
      const r = await locateDumps(src, map);
      expect(r.dumps.length, k).toBe(1);
    }
  });

  it('edited GPT headers and entries, MBR/EBR chains and disklabels: a map (maybe empty) with warnings, bounded reads', async () => {
    const arb = fc.record({
      base: fc.constantFrom('gpt', 'mbr', 'label') as fc.Arbitrary<keyof typeof bases>,
      list: edits(32),
      region: fc.constantFrom(0, 1, 2, 3),
      fix: fc.boolean(),
    });
    await fuzz('partition maps', arb, async ({ base, list, region, fix }) => {
      const disk = bases[base].slice();
      // where the edits land: the MBR, the GPT header, the entry array / EBRs, the disklabel sector
      const where = [[0, 512], [512, 512], [1024, 32 * 512], [base === 'mbr' ? (4096 + 1) * 512 : 512, 512]][region];
      applyEdits(disk, where[0], where[1], list);
      if (base === 'mbr') applyEdits(disk, 64 * 512, 512, list.slice(0, 4)); // the first EBR too
      if (fix && base === 'gpt') fixGpt(disk);
      if (fix && base === 'mbr') fixLabel(disk, (4096 + 1) * 512);
      if (fix && base === 'label') fixLabel(disk, 512);
      const src = new MemorySource(disk);
      const map = await readPartitionMap(src);
      expect(map.partitions.length).toBeLessThanOrEqual(4 + 128 + 22 + 4096);
      for (const w of map.warnings) expect(w).not.toBe('');
      const r = await locateDumps(src, map, { allPartitions: true });
      expect(r.bytesRead).toBeLessThanOrEqual((map.partitions.length + 1) * SIZE);
      for (const d of r.dumps) expect(d.offset + d.headerSize + d.memoryBytes).toBeLessThanOrEqual(SIZE + 512);
      const probed = await locateDumps(new GatherSource(disk), map, { allPartitions: true });
      expect(probed.dumps).toEqual(r.dumps);
      expect(probed.bytesRead).toBeLessThanOrEqual(r.bytesRead);
    }, 200);
  }, 600_000);
});

describe('fuzz: E01 images', () => {
  const media = pristine.amd64.subarray(0, 2 << 20);
  const segments = writeEwf(media, { sectorsPerChunk: 64, chunksPerSegment: 24 });

  it('the pristine image reads back', async () => {
    const ewf = await EwfSource.open(segments.map((s, i) => new MemorySource(s, `img.E0${i + 1}`)));
    const back = new Uint8Array(media.length);
    expect(await ewf.pread(back, 0)).toBe(media.length);
    expect(Buffer.from(back).equals(Buffer.from(media))).toBe(true);
    expect(ewf.info.md5).toMatch(/^[0-9a-f]{32}$/);
  });

  it('edited sections, tables and chunks: an EwfError or IoError naming the file and offset, or the bytes', async () => {
    const arb = fc.record({
      seg: fc.nat(),
      list: edits(16),
      region: fc.constantFrom('head', 'any', 'tail'),
      fixDescriptors: fc.boolean(),
      cut: fc.option(fc.nat(), { nil: undefined }),
      reads: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
    });
    await fuzz('E01 images', arb, async ({ seg, list, region, fixDescriptors, cut, reads }) => {
      const files = segments.map((s) => s.slice());
      const i = seg % files.length;
      const f = files[i];
      const [start, len] = region === 'head' ? [0, 2048] : region === 'tail' ? [Math.max(0, f.length - 2048), 2048] : [0, f.length];
      applyEdits(f, start, len, list);
      if (fixDescriptors) fixDescriptorChecksums(f);
      if (cut !== undefined) files[i] = f.subarray(0, cut % f.length);
      let ewf: EwfSource;
      try {
        ewf = await EwfSource.open(files.map((s, k) => new MemorySource(s, `img.E0${k + 1}`)));
      } catch (e) {
        expect(e).toBeInstanceOf(EwfError);
        expect((e as Error).message).toMatch(/^img\.E0\d: |^no segment/);
        return;
      }
      expect(ewf.size).toBeLessThanOrEqual(2 ** 53);
      for (const r of reads) {
        const at = ewf.size ? r % ewf.size : 0;
        const buf = new Uint8Array(5000);
        try {
          const n = await ewf.pread(buf, at);
          expect(n).toBeLessThanOrEqual(buf.length);
        } catch (e) {
          expect(e).toBeInstanceOf(IoError);
          expect((e as Error).message).toMatch(/img\.E0\d: .*(offset|chunk)/);
        }
      }
    }, 200);
  }, 600_000);
});
