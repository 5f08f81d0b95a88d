// Property: a savecore core built from kvm_dump_wrtheader's output plus the dump's memory data
// (format B, spec 1.2) reads exactly like the dump it came from (format A): same translations
// (PAs, and file offsets relative to each handle's first memory byte), same bytes, same errors.
// And the kcore encoders/decoders (spec 2.2, 2.4) round-trip.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../core/format/bytes.ts';
import {
  alignUp, decodeKcoreHdr, decodeKcoreSeg, decodePhysRamSegs, encodeKcoreHdr, encodeKcoreSeg, KCORE_HDR_SIZE, KCORE_SEG_SIZE,
  packMidMag, readMidMag, unpackMidMag, writeMidMag,
} from '../../core/format/kcore.ts';
import { Kvm } from '../../core/kvm.ts';
import { MemorySink, MemorySource } from '../../core/source.ts';
import { buildDumpImage } from '../fixtures/dump-image.ts';
import { directMapMappings } from '../fixtures/kernel-layout.ts';
import type { Flavour, Mapping } from '../fixtures/pagetables.ts';

const FLAVOURS: Flavour[] = ['amd64', 'i386', 'i386pae', 'aarch64'];

interface Pair {
  dump: Kvm;
  core: Kvm;
  mappings: Mapping[];
  symbols: { name: string; va: bigint; len: number }[];
  headerLen: number;
}

const built = new Map<string, Pair>();

/** The dump, and the core savecore would make of it (wrtheader bytes + exactly the memory data). */
async function pair(flavour: Flavour, seed: number, dumpsize: number): Promise<Pair> {
  const key = `${flavour}/${seed}/${dumpsize}`;
  const hit = built.get(key);
  if (hit) return hit;
  const img = buildDumpImage({ flavour, seed, memMiB: 16 });
  const bytes = img.toBytes();
  const kernel = new MemorySource(img.kernel, 'netbsd', 'file', false);
  const dump = await Kvm.open({ dump: new MemorySource(bytes, 'dump.img'), kernel });
  expect(await dump.mkheader(img.facts.dumpOff)).toBe(img.facts.headerSize);
  const sink = new MemorySink();
  const headerLen = await dump.wrtheader(sink, dumpsize);
  const header = sink.bytes();
  expect(headerLen).toBe(header.length);
  const memBytes = img.facts.segments.reduce((n, s) => n + Number(s.size), 0);
  const coreBytes = new Uint8Array(header.length + memBytes);
  coreBytes.set(header);
  coreBytes.set(bytes.subarray(img.facts.memOff, img.facts.memOff + memBytes), header.length);
  const core = await Kvm.open({ dump: new MemorySource(coreBytes, 'netbsd.0.core'), kernel });
  const mappings = [...img.facts.kernelData.mappings, ...directMapMappings(img.facts.layout, img.facts.segments)];
  const symbols = Object.entries(img.facts.symbols).map(([name, s]) => ({ name, va: s.va, len: s.bytes.length }));
  const p = { dump, core, mappings, symbols, headerLen };
  if (built.size > 8) built.delete(built.keys().next().value!);
  built.set(key, p);
  return p;
}

async function sameView(p: Pair, va: bigint, len: number): Promise<void> {
  const a = await p.dump.kvatop(va);
  const ea = p.dump.geterr();
  const b = await p.core.kvatop(va);
  const eb = p.core.geterr();
  expect({ va, cc: b.cc, pa: b.pa, err: eb }).toEqual({ va, cc: a.cc, pa: a.pa, err: ea });
  if (a.cc > 0) expect(p.core.pa2off(b.pa) - p.core.dumpOff).toBe(p.dump.pa2off(a.pa) - p.dump.dumpOff);
  const ba = new Uint8Array(len);
  const bb = new Uint8Array(len);
  const ra = await p.dump.read(va, ba);
  const rb = await p.core.read(va, bb);
  expect({ va, n: rb, err: p.core.geterr(), bytes: toHex(bb) }).toEqual({ va, n: ra, err: p.dump.geterr(), bytes: toHex(ba) });
}

describe('wrtheader round trip: the core reads like the dump', () => {
  it('core header: loaded at open, D = wrtheader length, cpu data ALIGN-ed, same machine and segments', async () => {
    for (const flavour of FLAVOURS) {
      const p = await pair(flavour, 1, 0x1000000);
      expect(p.core.hasHeader).toBe(true);
      expect(p.core.isCoreFile).toBe(true);
      expect(p.core.dumpOff).toBe(p.headerLen);
      expect(p.headerLen).toBe({ amd64: 536, i386: 532, i386pae: 532, aarch64: 544 }[flavour]);
      expect(p.core.machine!.name).toBe(flavour);
      expect(p.core.machine!.segments).toEqual(p.dump.machine!.segments);
      const align = p.dump.machineModule!.alignBytes;
      expect(p.core.cpuDsize).toBe(alignUp(p.dump.cpuDsize, align));
      expect(toHex(p.core.cpuData!.subarray(0, p.dump.cpuDsize))).toBe(toHex(p.dump.cpuData!));
      expect(await p.core.mkheader(0)).toBe(-1);
      expect(p.core.geterr()).toBe('already has a dump header');
    }
  });

  it('symbols and random VAs translate and read identically (random flavour, seed, dumpsize)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...FLAVOURS),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), fc.integer({ min: 1, max: 5000 })), { minLength: 1, maxLength: 12 }),
        async (flavour, seed, dumpsize, picks) => {
          const p = await pair(flavour, seed, dumpsize);
          for (const s of p.symbols) await sameView(p, s.va, s.len);
          for (const [mi, frac, len] of picks) {
            const m = p.mappings[mi % p.mappings.length];
            const va = m.va + BigInt(Math.floor(frac * Number(m.size)));
            await sameView(p, va, len); // may run off the mapping: then both fail the same way
          }
        },
      ),
      { numRuns: 24 },
    );
  }, 240_000);

  it('unmapped and past-the-end addresses fail identically', async () => {
    for (const flavour of FLAVOURS) {
      const p = await pair(flavour, 2, 12345);
      for (const va of [0n, 0x1000n, 0xdeadb000n, 0xffffffffa0000000n, 0xffff800000000000n]) await sameView(p, va, 16);
      // A direct-map VA beyond RAM (amd64, aarch64): PA not in any segment → pa2off "just past the end".
      const dm = p.mappings.find((m) => m.page === '1g');
      if (dm) await sameView(p, dm.va + dm.size - 8n, 8);
    }
  });
});

describe('kcore encoders round-trip (spec 2.2, 2.4)', () => {
  const midmag = fc.record({ flag: fc.integer({ min: 0, max: 0x3f }), mid: fc.integer({ min: 0, max: 0x3ff }), magic: fc.integer({ min: 0, max: 0xffff }) });

  it('c_midmag pack/unpack and its big-endian bytes', () => {
    fc.assert(fc.property(midmag, (mm) => {
      const v = packMidMag(mm);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(2 ** 32);
      expect(unpackMidMag(v)).toEqual(mm);
      const b = new Uint8Array(6);
      writeMidMag(b, 1, mm);
      // Independent of the encoder: flag in the top 6 bits, mid in the next 10, magic last, MSB first.
      expect([...b.subarray(1, 5)]).toEqual([(mm.flag << 2) | (mm.mid >> 8), mm.mid & 0xff, mm.magic >> 8, mm.magic & 0xff]);
      expect(readMidMag(b, 1)).toEqual(mm);
    }));
    // Out-of-range fields are masked, as the C macros do.
    expect(unpackMidMag(packMidMag({ flag: 0x41, mid: 0x49d, magic: 0x18fca }))).toEqual({ flag: 1, mid: 0x9d, magic: 0x8fca });
    expect(packMidMag({ flag: 1, mid: 157, magic: 0x8fca })).toBe(0x049d8fca);
  });

  it('kcore_hdr_t and kcore_seg_t encode/decode in both byte orders', () => {
    fc.assert(fc.property(
      midmag, fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.boolean(),
      (mm, hdrSize, segHdrSize, n, le) => {
        const h = { midmag: mm, hdrSize, segHdrSize, nseg: n };
        const hb = encodeKcoreHdr(h, le);
        expect(hb.length).toBe(KCORE_HDR_SIZE);
        expect(decodeKcoreHdr(hb, le)).toEqual(h);
        const dv = new DataView(hb.buffer, hb.byteOffset);
        expect([dv.getUint16(4, le), dv.getUint16(6, le), dv.getUint32(8, le), dv.getUint32(0, false)]).toEqual([hdrSize, segHdrSize, n, packMidMag(mm)]);
        const s = { midmag: mm, size: n };
        const sb = encodeKcoreSeg(s, le);
        expect(sb.length).toBe(KCORE_SEG_SIZE);
        expect(decodeKcoreSeg(sb, le)).toEqual(s);
        expect(new DataView(sb.buffer, sb.byteOffset).getUint32(4, le)).toBe(n);
      },
    ));
    // Spec 10.1: the amd64 format-B header bytes.
    expect(toHex(encodeKcoreHdr({ midmag: { flag: 0, mid: 157, magic: 0x8fca }, hdrSize: 16, segHdrSize: 8, nseg: 2 }, true))).toBe('009d8fca1000080002000000');
    expect(toHex(encodeKcoreSeg({ midmag: { flag: 1, mid: 0, magic: 0x8fac }, size: 504 }, true))).toBe('04008facf8010000');
  });

  it('phys_ram_seg_t arrays decode what was written, bounded by the buffer', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })), { maxLength: 40 }),
      fc.nat({ max: 64 }), fc.nat({ max: 24 }), fc.boolean(),
      (segs, count, off, le) => {
        const buf = new Uint8Array(off + segs.length * 16);
        const dv = new DataView(buf.buffer);
        segs.forEach(([start, size], i) => {
          dv.setBigUint64(off + i * 16, start, le);
          dv.setBigUint64(off + i * 16 + 8, size, le);
        });
        const got = decodePhysRamSegs(buf, off, count, le);
        expect(got).toEqual(segs.slice(0, Math.min(count, segs.length)).map(([start, size]) => ({ start, size })));
      },
    ));
  });
});
