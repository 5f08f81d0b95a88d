import { describe, expect, it } from 'vitest';
import { amd64 } from '../../core/machines/amd64.ts';
import { TRANSLATION_FAILED } from '../../core/machines/machine.ts';
import { buildPageTables, encodeCpuData, memoryData, PhysMem, TablePageAllocator, type Mapping } from '../fixtures/pagetables.ts';
import { dumpDataWalkContext, physMemWalkContext } from '../fixtures/walk-context.ts';

const KERNEL_2M = 0xffffffff80200000n;
const KERNEL_4K = 0xffffffff80600000n;
const DIRECT_MAP = 0xfffffe8000000000n;

const MAPPINGS: Mapping[] = [
  { va: KERNEL_2M, pa: 0x200000n, size: 0x400000n, page: '2m', noise: true },
  { va: KERNEL_4K, pa: 0x600000n, size: 0x4000n, page: '4k', noise: true },
  { va: KERNEL_4K + 0x4000n, pa: 0x1_2345_6000n, size: 0x1000n, page: '4k', noise: true },
  { va: DIRECT_MAP, pa: 0n, size: 0x80000000n, page: '1g', noise: true },
];

function setup(mappings = MAPPINGS) {
  const mem = new PhysMem();
  const alloc = new TablePageAllocator(0x10_0000n);
  const pt = buildPageTables('amd64', mem, alloc.next, mappings, { seed: 42 });
  const state = amd64.open(encodeCpuData(pt.cpuHeaderFields, [{ start: 0n, size: 0x80_0000n }]));
  return { mem, pt, state, ctx: physMemWalkContext(mem) };
}

describe('amd64 module', () => {
  it('has the constants of spec 2.3/2.5/6.1', () => {
    expect(amd64).toMatchObject({ name: 'amd64', mid: 157, alignBytes: 7, littleEndian: true, longSize: 8, elfClass: 64 });
    expect(amd64.elfMachines).toEqual([62]);
  });

  it('parses ptdpaddr and nmemsegs; segments at offset 16 are bounded by nmemsegs', () => {
    const segs = [{ start: 0n, size: 0x9f000n }, { start: 0x100000n, size: 0x700000n }, { start: 0x1_0000_0000n, size: 0x1000n }];
    const state = amd64.open(encodeCpuData({ flavour: 'amd64', ptdpaddr: 0x123000n }, segs, { count: 2n }));
    expect(state.name).toBe('amd64');
    expect(state.fields).toEqual({ ptdpaddr: 0x123000n, nmemsegs: 2n });
    expect(state.segments).toEqual(segs.slice(0, 2));
    expect(state.pa2off(0x1_0000_0000n)).toBe(0x9f000 + 0x700000); // third entry not consulted
  });

  it('stops at the end of the CPU data when nmemsegs is larger than the table', () => {
    const cpuData = encodeCpuData({ flavour: 'amd64', ptdpaddr: 0x1000n }, [{ start: 0n, size: 0x1000n }], { count: 0xffffffffffffffffn, length: 32 });
    expect(amd64.open(cpuData).segments).toEqual([{ start: 0n, size: 0x1000n }]);
  });

  it('reads missing header bytes as zero instead of throwing', () => {
    const state = amd64.open(new Uint8Array([0x00, 0x30, 0x12]));
    expect(state.fields).toEqual({ ptdpaddr: 0x123000n, nmemsegs: 0n });
    expect(state.segments).toEqual([]);
    expect(state.pa2off(0x5000n)).toBe(0);
  });
});

describe('amd64 kvatop', () => {
  it.each([
    ['4 KiB page, first byte', KERNEL_4K, 0x600000n, 4096],
    ['4 KiB page, middle', KERNEL_4K + 0x1234n, 0x601234n, 4096 - 0x234],
    ['4 KiB page, last byte', KERNEL_4K + 0x3fffn, 0x603fffn, 1],
    ['4 KiB page above 4 GiB', KERNEL_4K + 0x4010n, 0x1_2345_6010n, 4096 - 0x10],
    ['2 MiB page, first byte', KERNEL_2M, 0x200000n, 0x200000],
    ['2 MiB page, second page, offset', KERNEL_2M + 0x200000n + 0x12345n, 0x412345n, 0x200000 - 0x12345],
    ['1 GiB page, first byte', DIRECT_MAP, 0n, 0x40000000],
    ['1 GiB page, second page, offset', DIRECT_MAP + 0x7fff_fff0n, 0x7fff_fff0n, 0x10],
  ])('%s', async (_label, va, pa, cc) => {
    const { state, ctx } = setup();
    expect(await state.kvatop(ctx, va)).toEqual({ pa, cc });
    expect(ctx.messages).toEqual([]);
  });

  it('drops NX and bits 62..52 from every frame, and the PAT bits of PTEs and large pages', async () => {
    const { mem, pt, state, ctx } = setup();
    const high = 0xfff0_0000_0000_0000n; // NX + bits 62..52
    for (const va of [KERNEL_4K, KERNEL_2M, DIRECT_MAP]) {
      for (const slot of pt.entrySlots(va)) mem.writeWord(slot.pa, slot.entry | high, 8);
    }
    const [, , , pte] = pt.entrySlots(KERNEL_4K);
    mem.writeWord(pte.pa, pte.entry | 0x80n, 8); // PAT in a PTE is not PS
    const [, , pde2m] = pt.entrySlots(KERNEL_2M);
    mem.writeWord(pde2m.pa, pde2m.entry | 0x1000n, 8); // PAT of a 2 MiB page
    expect(await state.kvatop(ctx, KERNEL_4K + 5n)).toEqual({ pa: 0x600005n, cc: 4091 });
    expect(await state.kvatop(ctx, KERNEL_2M + 5n)).toEqual({ pa: 0x200005n, cc: 0x200000 - 5 });
    expect(await state.kvatop(ctx, DIRECT_MAP + 5n)).toEqual({ pa: 5n, cc: 0x40000000 - 5 });
  });

  it('does not examine PS at level 4', async () => {
    const { mem, pt, state, ctx } = setup();
    const [l4] = pt.entrySlots(KERNEL_4K);
    mem.writeWord(l4.pa, l4.entry | 0x80n, 8);
    expect(await state.kvatop(ctx, KERNEL_4K)).toEqual({ pa: 0x600000n, cc: 4096 });
  });

  it('uses ptdpaddr unmasked for the level-4 entry address', async () => {
    const { mem, pt, ctx } = setup();
    // Shift the root by one entry: VA with L4 index 510 now reads entry 511 (KERNEL_*).
    const state = amd64.open(encodeCpuData({ flavour: 'amd64', ptdpaddr: pt.root + 8n }, [{ start: 0n, size: 0x80_0000n }]));
    const l4Index510 = 0xffffff0000000000n + (KERNEL_4K & 0x7fffffffffn);
    expect(await state.kvatop(ctx, l4Index510)).toEqual({ pa: 0x600000n, cc: 4096 });
    expect(mem.readWord(pt.root + 510n * 8n, 8)).toBe(0n);
  });

  it('ignores the sign-extension bits of the VA', async () => {
    const { state, ctx } = setup();
    expect(await state.kvatop(ctx, KERNEL_4K & 0x0000ffffffffffffn)).toEqual({ pa: 0x600000n, cc: 4096 });
  });

  it.each([
    [0, 'invalid translation (invalid level 4 PDE)'],
    [1, 'invalid translation (invalid level 3 PDE)'],
    [2, 'invalid translation (invalid level 2 PDE)'],
    [3, 'invalid translation (invalid PTE)'],
  ])('fails with the spec 5.6 text when the level-%i entry is not present', async (level, message) => {
    const { mem, pt, state, ctx } = setup();
    const slot = pt.entrySlots(KERNEL_4K)[level];
    mem.writeWord(slot.pa, slot.entry & ~1n, 8);
    expect(await state.kvatop(ctx, KERNEL_4K)).toEqual(TRANSLATION_FAILED);
    expect(ctx.messages).toEqual([message]);
    expect(ctx.reads).toHaveLength(level + 1);
  });

  it.each([
    [0, 'could not read PT level 4 entry'],
    [1, 'could not read PT level 3 entry'],
    [2, 'could not read PT level 2 entry'],
    [3, 'could not read PTE'],
  ])('reports a failed level-%i read through syserr', async (level, message) => {
    const { mem, pt, state } = setup();
    const slot = pt.entrySlots(KERNEL_4K)[level];
    for (const [errno, text] of [['EINVAL', 'Invalid argument'], [0, 'Undefined error: 0']] as const) {
      const ctx = physMemWalkContext(mem, { unreadable: (pa) => pa === slot.pa, errno });
      expect(await state.kvatop(ctx, KERNEL_4K)).toEqual(TRANSLATION_FAILED);
      expect(ctx.messages).toEqual([`${message}: ${text}`]);
    }
  });

  it('an unmapped VA fails at the first missing level', async () => {
    const { state, ctx } = setup();
    expect(await state.kvatop(ctx, 0x00007f0000000000n)).toEqual(TRANSLATION_FAILED);
    expect(ctx.lastMessage).toBe('invalid translation (invalid level 4 PDE)');
    expect(await state.kvatop(ctx, KERNEL_4K + 0x10000n)).toEqual(TRANSLATION_FAILED);
    expect(ctx.lastMessage).toBe('invalid translation (invalid PTE)');
  });
});

describe('amd64 pa2off and dump reads', () => {
  const segs = [
    { start: 0x100000n, size: 0x100000n },
    { start: 0n, size: 0x9f000n },
    { start: 0x180000n, size: 0x1000n }, // overlaps the first: never reached
  ];

  it('returns the accumulated offset of the first matching segment', () => {
    const state = amd64.open(encodeCpuData({ flavour: 'amd64', ptdpaddr: 0n }, segs));
    expect(state.pa2off(0x100000n)).toBe(0);
    expect(state.pa2off(0x180010n)).toBe(0x80010);
    expect(state.pa2off(0x1234n)).toBe(0x100000 + 0x1234);
  });

  it('returns the total size for a PA in no segment', () => {
    const state = amd64.open(encodeCpuData({ flavour: 'amd64', ptdpaddr: 0n }, segs));
    expect(state.pa2off(0x9f000n)).toBe(0x100000 + 0x9f000 + 0x1000);
    expect(state.pa2off(0xffffffffffffffffn)).toBe(0x100000 + 0x9f000 + 0x1000);
  });

  it('walks tables through pa2off; a table outside every segment reads past the end (EINVAL)', async () => {
    const mem = new PhysMem();
    const alloc = new TablePageAllocator(0x20_0000n);
    const pt = buildPageTables('amd64', mem, alloc.next, [{ va: KERNEL_4K, pa: 0x1000n, size: 0x1000n, page: '4k' }]);
    const tableEnd = alloc.allocated.at(-1)! + 0x1000n;
    // Segments in reverse PA order, so offsets differ from PAs.
    const covering = [{ start: 0x20_0000n, size: tableEnd - 0x20_0000n }, { start: 0n, size: 0x10_0000n }];
    const good = amd64.open(encodeCpuData(pt.cpuHeaderFields, covering));
    const ctx = dumpDataWalkContext(good, memoryData(mem, covering));
    expect(await good.kvatop(ctx, KERNEL_4K + 7n)).toEqual({ pa: 0x1007n, cc: 4089 });

    const missingLastTable = [{ start: 0x20_0000n, size: tableEnd - 0x20_0000n - 0x1000n }];
    const bad = amd64.open(encodeCpuData(pt.cpuHeaderFields, missingLastTable));
    const badCtx = dumpDataWalkContext(bad, memoryData(mem, missingLastTable));
    expect(await bad.kvatop(badCtx, KERNEL_4K)).toEqual(TRANSLATION_FAILED);
    expect(badCtx.messages).toEqual(['could not read PTE: Invalid argument']);
  });
});
