// The strict virtual layer (issue 8): a translation lists every level of the walk it took (table,
// index, entry address, entry, flags) on amd64 4 KiB / 2 MiB / 1 GiB pages, i386, i386-PAE and
// aarch64; a failed walk is a typed fault at its level; a read stitches pages and reports each
// unmapped range, never bytes that are not memory.
import { describe, expect, it } from 'vitest';
import { MemorySource } from '../../core/source.ts';
import { MACHINES } from '../../core/machines/index.ts';
import { memoryLayers, type Translated, type TranslationFault } from '../../core/layers/index.ts';
import { Kvm } from '../../core/kvm.ts';
import { buildPageTables, encodeCpuData, memoryData, PhysMem, TablePageAllocator, type Flavour, type Mapping, type PageTables } from '../fixtures/pagetables.ts';
import { buildDumpImage } from '../fixtures/dump-image.ts';

const LONG: Record<Flavour, 4 | 8> = { amd64: 8, i386: 4, i386pae: 4, aarch64: 8 };

/** Memory with page tables for `mappings`, laid out as a dump's memory data at file offset 0. */
function layersFor(
  flavour: Flavour, mappings: Mapping[], segments: { start: bigint; size: bigint }[], tablePool: bigint,
  tweak?: (mem: PhysMem, pt: PageTables) => void,
) {
  const mem = new PhysMem();
  const alloc = new TablePageAllocator(tablePool);
  const pt = buildPageTables(flavour, mem, alloc.next, mappings, { seed: 5, noise: true });
  for (const m of mappings) mem.write(m.pa, new TextEncoder().encode(`${flavour}@${m.pa.toString(16)}`));
  tweak?.(mem, pt);
  const module = MACHINES.find((x) => x.name === (flavour === 'i386pae' ? 'i386' : flavour))!;
  const state = module.open(encodeCpuData(pt.cpuHeaderFields, segments));
  const layers = memoryLayers({ dumpSource: new MemorySource(memoryData(mem, segments)), machine: state, machineModule: module, dumpOff: 0, longSize: LONG[flavour] });
  return { mem, pt, layers };
}

/** The walk as the builder laid it: level numbers, names, entry addresses and values. */
function expectWalk(tr: Translated | TranslationFault, pt: ReturnType<typeof layersFor>['pt'], va: bigint, names: string[], levels: number[]) {
  const slots = pt.entrySlots(va);
  expect(tr.walk.map((l) => l.name)).toEqual(names);
  expect(tr.walk.map((l) => l.level)).toEqual(levels);
  expect(tr.walk.map((l) => l.entryAddress)).toEqual(slots.map((s) => s.pa));
  expect(tr.walk.map((l) => l.entry)).toEqual(slots.map((s) => s.entry));
  for (const l of tr.walk) expect(l.entryAddress).toBe(l.tableAddress + BigInt(l.index) * BigInt(slots[0].size));
}

describe('amd64 walk', () => {
  const K4 = 0xffffffff80600000n;
  const K2 = 0xffffffff80200000n;
  const DM = 0xfffffe8000000000n;
  const setup = (tweak?: (mem: PhysMem, pt: PageTables) => void) => layersFor('amd64', [
    { va: K2, pa: 0x200000n, size: 0x200000n, page: '2m' },
    { va: K4, pa: 0x600000n, size: 0x2000n, page: '4k' },
    { va: DM, pa: 0n, size: 0x40000000n, page: '1g' },
  ], [{ start: 0n, size: 0x9f000n }, { start: 0x100000n, size: 0x700000n }], 0x700000n, tweak);

  it.each([
    ['4 KiB', K4 + 0x123n, 0x600123n, 4096, ['PML4E', 'PDPTE', 'PDE', 'PTE'], [4, 3, 2, 1]],
    ['2 MiB', K2 + 0x12345n, 0x212345n, 0x200000, ['PML4E', 'PDPTE', 'PDE'], [4, 3, 2]],
    ['1 GiB', DM + 0x600010n, 0x600010n, 0x40000000, ['PML4E', 'PDPTE'], [4, 3]],
  ])('%s page: every level listed with its table, index, entry and flags', async (_l, va, pa, pageSize, names, levels) => {
    const { pt, layers } = setup();
    const tr = await layers.virtual.translate(va);
    expect(tr).toMatchObject({ ok: true, va, pa, pageSize });
    expectWalk(tr, pt, va, names as string[], levels as number[]);
    const leaf = tr.walk.at(-1)!;
    expect(leaf.flags).toMatchObject({ present: true, writable: true, largePage: pageSize > 4096 });
    expect(tr.walk[0].tableAddress).toBe(pt.root);
    expect(tr.walk[0].index).toBe(Number((va >> 39n) & 0x1ffn));
    expect(layers.physical.fileOffset(pa)).toBe(Number(pa) - 0x61000); // second bank starts at 0x9f000 in the data
  });

  it('a not-present entry is a fault at its level with the entry', async () => {
    const { layers } = setup();
    const va = K4 + 0x5000n; // same page table, entry 5 empty
    const tr = await layers.virtual.translate(va) as TranslationFault;
    expect(tr).toMatchObject({ ok: false, kind: 'not-present', level: 1, entry: 0n });
    expect(tr.walk.map((l) => l.name)).toEqual(['PML4E', 'PDPTE', 'PDE', 'PTE']);
    expect(tr.reason).toMatch(/^PTE \(level 1\) at PA 0x[0-9a-f]+ is not present \(entry 0x0\)$/);
  });

  it('a non-canonical VA is out of range before any walk', async () => {
    const { layers } = setup();
    expect(await layers.virtual.translate(0x0000900000000000n)).toMatchObject({ ok: false, kind: 'out-of-range', level: null, walk: [] });
  });

  it('a table outside every segment is an unreadable entry, not the bytes past the memory data', async () => {
    // The PDE points at a page table in the ISA hole.
    const { layers } = setup((mem, pt) => mem.writeWord(pt.entrySlots(K4)[2].pa, 0xa0000n | 3n, 8));
    const tr = await layers.virtual.translate(K4) as TranslationFault;
    expect(tr).toMatchObject({ ok: false, kind: 'entry-unreadable', level: 1, entryAddress: 0xa0000n, entry: null });
    expect(tr.reason).toMatch(/PA 0xa0000 is in no memory segment/);
  });

  it('a read stitches pages and reports the unmapped page as a fault with zero bytes', async () => {
    const { layers } = setup();
    const got = await layers.virtual.read(K4 + 0x1ff0n, 0x20);
    expect(new TextDecoder().decode(got.data.subarray(0, 0x10))).toBe('\0'.repeat(0x10)); // page 2's tail (zero memory)
    expect(got.faults).toEqual([expect.objectContaining({ offset: 0x10, length: 0x10, kind: 'not-present', address: K4 + 0x2000n })]);
    const first = await layers.virtual.read(K4, 14);
    expect(new TextDecoder().decode(first.data)).toBe('amd64@600000\0\0');
  });
});

describe.each([
  ['i386', [['4k', 0xc0100000n, 0x100000n, ['PDE', 'PTE'], [2, 1]], ['4m', 0xc0400000n, 0x400000n, ['PDE'], [2]]]],
  ['i386pae', [['4k', 0xc0100000n, 0x100000n, ['PDE', 'PTE'], [2, 1]], ['2m', 0xc0400000n, 0x400000n, ['PDE'], [2]]]],
  ['aarch64', [
    ['4k', 0xffffc00000400000n, 0x40600000n, ['L0', 'L1', 'L2', 'L3'], [0, 1, 2, 3]],
    ['2m', 0xffffc00000200000n, 0x40200000n, ['L0', 'L1', 'L2'], [0, 1, 2]],
    ['1g', 0xffff000040000000n, 0x40000000n, ['L0', 'L1'], [0, 1]],
  ]],
] as const)('%s walk', (flavour, cases) => {
  const base = flavour === 'aarch64' ? 0x40000000n : 0n;
  const mappings: Mapping[] = cases.map(([page, va, pa]) => ({ va, pa, size: page === '4k' ? 0x1000n : page === '4m' ? 0x400000n : page === '2m' ? 0x200000n : 0x40000000n, page }));
  const setup = () => layersFor(flavour, mappings, [{ start: base, size: 0x1000000n }], base + 0x900000n);

  it.each(cases.map((c) => [...c]))('%s page: the walk lists each level', async (page, va, pa, names, levels) => {
    const { pt, layers } = setup();
    const tr = await layers.virtual.translate(va + 0x10n);
    const pageSize = page === '4k' ? 0x1000 : page === '4m' ? 0x400000 : page === '2m' ? 0x200000 : 0x40000000;
    expect(tr).toMatchObject({ ok: true, pa: pa + 0x10n, pageSize });
    expectWalk(tr, pt, va + 0x10n, [...names], [...levels]);
    expect(tr.walk.at(-1)!.flags?.largePage).toBe(page !== '4k');
    expect(tr.walk.every((l) => l.flags?.present)).toBe(true);
    const got = await layers.virtual.read(va, 24);
    expect(got.faults).toEqual([]);
    expect(new TextDecoder().decode(got.data).replace(/\0+$/, '')).toBe(`${flavour}@${pa.toString(16)}`);
  });

  it('an address the tables cannot describe is out of range', async () => {
    const { layers } = setup();
    const va = flavour === 'aarch64' ? 0x0000400000000000n : 0x1_0000_0000n;
    expect(await layers.virtual.translate(va)).toMatchObject({ ok: false, kind: 'out-of-range', level: null });
    expect((await layers.virtual.read(va, 8)).faults).toEqual([expect.objectContaining({ kind: 'out-of-range', length: 8 })]);
  });
});

describe('the bug of issue 8', () => {
  it('amd64: the direct map of the ISA hole faults; libkvm still reads the bytes after the dump', async () => {
    const img = buildDumpImage({ flavour: 'amd64', seed: 3, memMiB: 64 });
    const bytes = img.toBytes();
    const image = new Uint8Array(bytes.length + 0x100000).fill(0x41);
    image.set(bytes);
    const kd = await Kvm.open({ dump: new MemorySource(image, 'wd0b', 'file', false), kernel: new MemorySource(img.kernel) });
    expect(await kd.mkheader(img.facts.dumpOff)).toBeGreaterThan(0);
    const va = 0xfffffe80000a0000n;
    const quirk = new Uint8Array(4);
    expect(await kd.read(va, quirk)).toBe(4);
    expect([...quirk]).toEqual([0x41, 0x41, 0x41, 0x41]); // libkvm's answer, kept exact

    const layers = memoryLayers(kd);
    const tr = await layers.virtual.translate(va);
    expect(tr).toMatchObject({ ok: true, pa: 0xa0000n });
    expect(layers.physical.fileOffset(0xa0000n)).toBeNull();
    const got = await layers.virtual.read(va, 256);
    expect(got.faults).toEqual([expect.objectContaining({ offset: 0, length: 256, kind: 'outside-segments', address: va })]);
    expect(got.data.includes(0x41)).toBe(false);
  });
});
