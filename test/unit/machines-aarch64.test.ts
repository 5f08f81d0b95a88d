import { describe, expect, it } from 'vitest';
import { aarch64 } from '../../core/machines/aarch64.ts';
import { amd64 } from '../../core/machines/amd64.ts';
import { TRANSLATION_FAILED } from '../../core/machines/machine.ts';
import { AARCH64_TCR1, buildPageTables, encodeCpuData, PhysMem, TablePageAllocator, type Mapping } from '../fixtures/pagetables.ts';
import { physMemWalkContext } from '../fixtures/walk-context.ts';

const DIRECT_MAP = 0xffff000000000000n;
const KERNEL = 0xffffc00000000000n;
const DRAM = 0x40000000n;
const SEGS = [{ start: DRAM, size: 0x4000000n }, { start: 0x8_0000_0000n, size: 0x1000000n }];

const MAPPINGS: Mapping[] = [
  { va: KERNEL, pa: DRAM + 0x200000n, size: 0x400000n, page: '2m', noise: true },
  { va: KERNEL + 0x400000n, pa: DRAM + 0x600000n, size: 0x3000n, page: '4k', noise: true },
  { va: KERNEL + 0x403000n, pa: 0x8_0000_5000n, size: 0x1000n, page: '4k', noise: true },
  { va: DIRECT_MAP + DRAM, pa: DRAM, size: 0x80000000n, page: '1g', noise: true },
];

function setup(opts: { asid?: number; tcr1Extra?: bigint } = {}) {
  const mem = new PhysMem();
  const alloc = new TablePageAllocator(DRAM + 0x100000n);
  const pt = buildPageTables('aarch64', mem, alloc.next, MAPPINGS, { seed: 9, ...opts });
  const state = aarch64.open(encodeCpuData(pt.cpuHeaderFields, SEGS));
  return { mem, pt, state, ctx: physMemWalkContext(mem) };
}

function cpuData(tcr1: bigint, ttbr1: bigint): Uint8Array {
  return encodeCpuData({ flavour: 'aarch64', tcr1, ttbr1 }, SEGS);
}

describe('aarch64 module', () => {
  it('has the constants of spec 2.3/2.5/6.1', () => {
    expect(aarch64).toMatchObject({ name: 'aarch64', mid: 183, alignBytes: 15, littleEndian: true, longSize: 8, elfClass: 64 });
    expect(aarch64.elfMachines).toEqual([183]);
  });

  it('parses tcr1, ttbr1, kh_nramsegs; kh_ramsegs at 24 end at the zero entry, ignoring the count', () => {
    const data = encodeCpuData({ flavour: 'aarch64', tcr1: AARCH64_TCR1, ttbr1: 0x4010_0000n }, SEGS, { count: 1n });
    expect(data.length).toBe(496);
    const state = aarch64.open(data);
    expect(state.name).toBe('aarch64');
    expect(state.fields).toEqual({ tcr1: AARCH64_TCR1, ttbr1: 0x4010_0000n, nramsegs: 1n });
    expect(state.segments).toEqual(SEGS);
  });

  it('stops at the first size-0 entry even when later entries are non-zero', () => {
    const segs = [SEGS[0], { start: 0x9000_0000n, size: 0n }, SEGS[1]];
    expect(aarch64.open(encodeCpuData({ flavour: 'aarch64', tcr1: 0n, ttbr1: 0n }, segs)).segments).toEqual([SEGS[0]]);
  });

  it('treats the end of the CPU data as the terminator (C would read past it)', () => {
    const data = encodeCpuData({ flavour: 'aarch64', tcr1: 0n, ttbr1: 0n }, SEGS, { length: 24 + 32 });
    expect(data.length).toBe(56);
    expect(aarch64.open(data).segments).toEqual(SEGS);
    // A cut inside an entry reads the missing bytes as zero: no size left → terminator.
    expect(aarch64.open(data.subarray(0, 24 + 16 + 8)).segments).toEqual([SEGS[0]]);
    expect(aarch64.open(data.subarray(0, 24 + 16 + 12)).segments).toEqual(SEGS); // size's high half is 0 anyway
  });

  it('pa2off: first match wins, miss gives the total size', () => {
    const segs = [{ start: 0x4000_0000n, size: 0x10000n }, { start: 0x4000_8000n, size: 0x10000n }];
    const state = aarch64.open(encodeCpuData({ flavour: 'aarch64', tcr1: 0n, ttbr1: 0n }, segs));
    expect(state.pa2off(0x4000_8000n)).toBe(0x8000);
    expect(state.pa2off(0x4001_0000n)).toBe(0x10000 + 0x8000);
    expect(state.pa2off(0x3fff_ffffn)).toBe(0x20000);
  });

  it('pa2off compares against start + size in u64 (wraps), unlike the x86 pa - start < size', () => {
    const segs = [{ start: 0xffff_ffff_ffff_f000n, size: 0x2000n }];
    const arm = aarch64.open(encodeCpuData({ flavour: 'aarch64', tcr1: 0n, ttbr1: 0n }, segs));
    const x86 = amd64.open(encodeCpuData({ flavour: 'amd64', ptdpaddr: 0n }, segs));
    expect(arm.pa2off(0xffff_ffff_ffff_f800n)).toBe(0x2000);
    expect(x86.pa2off(0xffff_ffff_ffff_f800n)).toBe(0x800);
  });
});

describe('aarch64 kvatop (4 KiB granule, T1SZ 16)', () => {
  it.each([
    ['2 MiB block', KERNEL + 0x1234n, DRAM + 0x201234n, 0x200000 - 0x1234],
    ['2 MiB block, second', KERNEL + 0x3fffffn, DRAM + 0x5fffffn, 1],
    ['4 KiB page', KERNEL + 0x400000n, DRAM + 0x600000n, 4096],
    ['4 KiB page, offset', KERNEL + 0x402800n, DRAM + 0x602800n, 0x800],
    ['4 KiB page in the 32 GiB bank', KERNEL + 0x403004n, 0x8_0000_5004n, 4092],
    ['1 GiB block', DIRECT_MAP + DRAM, DRAM, 0x40000000],
    ['1 GiB block, second, offset', DIRECT_MAP + DRAM + 0x7654_3210n, DRAM + 0x7654_3210n, 0x40000000 - 0x3654_3210],
  ])('%s', async (_label, va, pa, cc) => {
    const { state, ctx } = setup({ asid: 0xbeef, tcr1Extra: 16n | (5n << 32n) | (1n << 37n) });
    expect(await state.kvatop(ctx, va)).toEqual({ pa, cc });
    expect(ctx.messages).toEqual([]);
  });

  it('masks the ASID out of ttbr1', async () => {
    const { pt, state, ctx } = setup({ asid: 0xffff });
    expect((pt.cpuHeaderFields as { ttbr1: bigint }).ttbr1 >> 48n).toBe(0xffffn);
    expect(await state.kvatop(ctx, KERNEL + 0x400000n)).toEqual({ pa: DRAM + 0x600000n, cc: 4096 });
    expect(ctx.reads[0] >> 48n).toBe(0n);
  });

  it('drops bits 63..48 and attribute bits from every output address', async () => {
    const { mem, pt, state, ctx } = setup();
    for (const va of [KERNEL, KERNEL + 0x400000n, DIRECT_MAP + DRAM]) {
      for (const slot of pt.entrySlots(va)) mem.writeWord(slot.pa, slot.entry | 0xffff_0000_0000_0ffcn, 8);
    }
    expect(await state.kvatop(ctx, KERNEL + 8n)).toEqual({ pa: DRAM + 0x200008n, cc: 0x200000 - 8 });
    expect(await state.kvatop(ctx, KERNEL + 0x400008n)).toEqual({ pa: DRAM + 0x600008n, cc: 4088 });
    expect(await state.kvatop(ctx, DIRECT_MAP + DRAM + 8n)).toEqual({ pa: DRAM + 8n, cc: 0x40000000 - 8 });
  });

  it.each([0n, 0x0000_8000_0000_0000n, 0xfffe_c000_0000_0000n, 0x7fff_ffff_ffff_f000n])(
    'rejects the non-kernel VA %s before reading any table',
    async (va) => {
      const { state, ctx } = setup();
      expect(await state.kvatop(ctx, va)).toEqual(TRANSLATION_FAILED);
      expect(ctx.messages).toEqual(['invalid kernel virtual address']);
      expect(ctx.reads).toEqual([]);
    },
  );

  it('fails silently on a TG1 of 0 (bad granule)', async () => {
    const { mem, pt } = setup();
    const ttbr1 = (pt.cpuHeaderFields as { ttbr1: bigint }).ttbr1;
    const state = aarch64.open(cpuData(16n << 16n, ttbr1));
    const ctx = physMemWalkContext(mem);
    ctx.err('earlier message');
    expect(await state.kvatop(ctx, KERNEL)).toEqual(TRANSLATION_FAILED);
    expect(ctx.messages).toEqual(['earlier message']); // errbuf left as it was
    expect(ctx.reads).toEqual([]);
  });

  it.each([0, 1, 2, 3])('level-%i entry not valid → "invalid translation (invalid pte)"', async (level) => {
    const { mem, pt, state, ctx } = setup();
    const slot = pt.entrySlots(KERNEL + 0x400000n)[level];
    mem.writeWord(slot.pa, slot.entry & ~1n, 8);
    expect(await state.kvatop(ctx, KERNEL + 0x400000n)).toEqual(TRANSLATION_FAILED);
    expect(ctx.messages).toEqual(['invalid translation (invalid pte)']);
    expect(ctx.reads).toHaveLength(level + 1);
  });

  it.each([0, 1, 2, 3])('level-%i read failure → "could not read pte: <strerror>"', async (level) => {
    const { mem, pt, state } = setup();
    const slot = pt.entrySlots(KERNEL + 0x400000n)[level];
    const ctx = physMemWalkContext(mem, { unreadable: (pa) => pa === slot.pa, errno: 0 });
    expect(await state.kvatop(ctx, KERNEL + 0x400000n)).toEqual(TRANSLATION_FAILED);
    expect(ctx.messages).toEqual(['could not read pte: Undefined error: 0']);
  });

  it('a block descriptor at the last level is taken as a block of the page size', async () => {
    const { mem, pt, state, ctx } = setup();
    const [, , , leaf] = pt.entrySlots(KERNEL + 0x401000n);
    mem.writeWord(leaf.pa, leaf.entry & ~2n, 8);
    expect(await state.kvatop(ctx, KERNEL + 0x401abcn)).toEqual({ pa: DRAM + 0x601abcn, cc: 4096 - 0xabc });
  });
});

/** Hand-built tables for granules and VA sizes the builder does not make (spec 5.5 steps 3–8). */
describe('aarch64 kvatop, other TCR shapes', () => {
  interface Shape { tg1: bigint; t1sz: bigint; pageShift: bigint; levels: number }
  const SHAPES: Record<string, Shape> = {
    '16K, T1SZ 16 (4 levels, 1-bit level 0)': { tg1: 0x40000000n, t1sz: 16n, pageShift: 14n, levels: 4 },
    '64K, T1SZ 16 (3 levels)': { tg1: 0xc0000000n, t1sz: 16n, pageShift: 16n, levels: 3 },
    '4K, T1SZ 25 (3 levels, 39-bit VA)': { tg1: 0x80000000n, t1sz: 25n, pageShift: 12n, levels: 3 },
  };

  /** Map va → pa with a leaf at `leafLevel`; returns the CPU data. */
  function handBuild(mem: PhysMem, shape: Shape, va: bigint, pa: bigint, leafLevel: number): Uint8Array {
    const page = 1n << shape.pageShift;
    const pteShift = shape.pageShift - 3n;
    const inputBits = 64n - shape.t1sz;
    const masked = va & ((1n << inputBits) - 1n);
    let next = 0x100n * page;
    const root = next;
    let table = root;
    for (let level = 0; level <= leafLevel; level++) {
      const shift = shape.pageShift + BigInt(shape.levels - 1 - level) * pteShift;
      const slot = table + 8n * ((masked >> shift) & ((1n << pteShift) - 1n));
      if (level === leafLevel) {
        const isPage = level === shape.levels - 1;
        mem.writeWord(slot, pa | 0x400n | (isPage ? 3n : 1n), 8);
      } else {
        next += page;
        mem.writeWord(slot, next | 3n, 8);
        table = next;
      }
    }
    return cpuData(shape.tg1 | (shape.t1sz << 16n), (0x1234n << 48n) | root);
  }

  for (const [label, shape] of Object.entries(SHAPES)) {
    it(`${label}: page and block leaves`, async () => {
      const page = 1n << shape.pageShift;
      const va = 0xffff_ff80_1234_5678n;
      for (let leafLevel = 1; leafLevel < shape.levels; leafLevel++) {
        const mem = new PhysMem();
        const span = 1n << (shape.pageShift + BigInt(shape.levels - 1 - leafLevel) * (shape.pageShift - 3n));
        const pa = 0x40_0000_0000n;
        const state = aarch64.open(handBuild(mem, shape, va, pa, leafLevel));
        const ctx = physMemWalkContext(mem);
        const off = va & (span - 1n);
        expect(await state.kvatop(ctx, va)).toEqual({ pa: pa + off, cc: Number(span - off) });
        expect(ctx.reads).toHaveLength(leafLevel + 1);
        expect(span >= page).toBe(true);
      }
    });
  }
});
