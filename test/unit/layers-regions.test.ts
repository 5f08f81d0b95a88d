// Where memory is (issue 10): mapped VA regions found by walking the page tables with holes skipped
// whole, next/previous mapped region, physical regions from the segments, and the direct map's VA
// of a PA confirmed by translating it back.
import { describe, expect, it } from 'vitest';
import { MemorySource } from '../../core/source.ts';
import { MACHINES } from '../../core/machines/index.ts';
import { memoryLayers } from '../../core/layers/index.ts';
import { directMapVa, DIRECT_MAP_BASES, mappedRegions, nextMappedRegion, physicalRegions, previousMappedRegion } from '../../core/layers/regions.ts';
import { buildPageTables, encodeCpuData, memoryData, PhysMem, TablePageAllocator, type Flavour, type Mapping } from '../fixtures/pagetables.ts';

const LONG: Record<Flavour, 4 | 8> = { amd64: 8, i386: 4, i386pae: 4, aarch64: 8 };

function layersFor(flavour: Flavour, mappings: Mapping[], segments: { start: bigint; size: bigint }[], tablePool: bigint) {
  const mem = new PhysMem();
  const alloc = new TablePageAllocator(tablePool);
  const pt = buildPageTables(flavour, mem, alloc.next, mappings, { seed: 9, noise: true });
  const module = MACHINES.find((x) => x.name === (flavour === 'i386pae' ? 'i386' : flavour))!;
  const state = module.open(encodeCpuData(pt.cpuHeaderFields, segments));
  return memoryLayers({ dumpSource: new MemorySource(memoryData(mem, segments)), machine: state, machineModule: module, dumpOff: 0, longSize: LONG[flavour] });
}

describe('amd64 regions', () => {
  const K4 = 0xffffffff80600000n;
  const K2 = 0xffffffff80200000n;
  const DM = 0xfffffe8000000000n;
  const layers = () => layersFor('amd64', [
    { va: K2, pa: 0x200000n, size: 0x200000n, page: '2m' },
    { va: K4, pa: 0x600000n, size: 0x3000n, page: '4k' },
    { va: K4 + 0x5000n, pa: 0x605000n, size: 0x1000n, page: '4k' },
    { va: DM, pa: 0n, size: 0x40000000n, page: '1g' },
  ], [{ start: 0n, size: 0x9f000n }, { start: 0x100000n, size: 0x700000n }], 0x700000n);

  it('lists exactly the mapped ranges of the high half, merging adjacent pages, in few probes', async () => {
    const { virtual } = layers();
    const scan = await mappedRegions(virtual, 0xffff800000000000n, 1n << 64n);
    expect(scan.complete).toBe(true);
    expect(scan.regions).toEqual([
      { start: DM, end: DM + 0x40000000n },
      { start: K2, end: K2 + 0x200000n },
      { start: K4, end: K4 + 0x3000n },
      { start: K4 + 0x5000n, end: K4 + 0x6000n },
    ]);
    // Holes are skipped a whole entry at a time: at most one probe per entry of each table the
    // walk visits (PML4 high half 256, and 512 per PDPT/PD/PT page reached), not one per 4 KiB page.
    expect(scan.probes).toBeLessThan(256 + 512 * 6);
  });

  it('crosses the non-canonical hole in one step and stops at the probe budget with the place', async () => {
    const { virtual } = layers();
    const all = await mappedRegions(virtual, 0n, 1n << 64n);
    expect(all.regions[0]!.start).toBe(DM);
    const cut = await mappedRegions(virtual, 0xffff800000000000n, 1n << 64n, { maxProbes: 3 });
    expect(cut).toMatchObject({ complete: false, probes: 3 });
    expect(cut.stoppedAt).not.toBeNull();
  });

  it('next and previous mapped region skip holes and the rest of the current region', async () => {
    const { virtual } = layers();
    const lim = 1n << 64n;
    expect(await nextMappedRegion(virtual, K4 + 0x10n, lim)).toEqual({ found: true, address: K4 + 0x5000n });
    expect(await nextMappedRegion(virtual, K2 + 0x1234n, lim)).toEqual({ found: true, address: K4 });
    expect(await nextMappedRegion(virtual, 0x1000n, lim)).toEqual({ found: true, address: DM });
    expect(await nextMappedRegion(virtual, K4 + 0x5000n, lim)).toMatchObject({ found: false });
    expect(await previousMappedRegion(virtual, K4 + 0x5010n)).toEqual({ found: true, address: K4 });
    expect(await previousMappedRegion(virtual, K4 + 0x4000n)).toEqual({ found: true, address: K4 });
    expect(await previousMappedRegion(virtual, K4 + 0x10n)).toEqual({ found: true, address: K2 });
    expect(await previousMappedRegion(virtual, DM + 0x10n)).toMatchObject({ found: false });
  });

  it('the direct map VA of a PA is confirmed by translation; a PA it does not map has none', async () => {
    const { virtual } = layers();
    expect(await directMapVa(virtual, 0x600010n, DIRECT_MAP_BASES.amd64!)).toBe(DM + 0x600010n);
    expect(await directMapVa(virtual, 0x50000000n, DIRECT_MAP_BASES.amd64!)).toBeNull();
    expect(await directMapVa(virtual, 0x10n, [0xffff800000000000n])).toBeNull();
  });

  it('physical regions are the segments, merged where they touch', () => {
    const { physical } = layers();
    expect(physicalRegions(physical, 0n, 1n << 64n).regions).toEqual([
      { start: 0n, end: 0x9f000n }, { start: 0x100000n, end: 0x800000n },
    ]);
  });
});

describe.each([
  ['i386pae' as Flavour, 0xc0000000n, 0x1000n],
  ['i386' as Flavour, 0xc0000000n, 0x1000n],
  ['aarch64' as Flavour, 0xffffc00000000000n, 0x1000n],
])('%s regions', (flavour, base, page) => {
  it('finds the mapped pages and steps between them', async () => {
    const { virtual } = layersFor(flavour, [
      { va: base, pa: 0x40000000n + 0x200000n, size: 2n * page, page: '4k' },
      { va: base + 0x10n * page, pa: 0x40000000n + 0x300000n, size: page, page: '4k' },
    ], [{ start: 0x40000000n, size: 0x800000n }], 0x40400000n);
    const top = 1n << BigInt(LONG[flavour] * 8);
    const scan = await mappedRegions(virtual, base - 0x100000n, top);
    expect(scan.regions).toEqual([{ start: base, end: base + 2n * page }, { start: base + 0x10n * page, end: base + 0x11n * page }]);
    expect(await nextMappedRegion(virtual, base, top)).toEqual({ found: true, address: base + 0x10n * page });
    expect(await previousMappedRegion(virtual, base + 0x10n * page)).toEqual({ found: true, address: base });
  });
});
