import { describe, expect, it } from 'vitest';
import { i386 } from '../../core/machines/i386.ts';
import { TRANSLATION_FAILED } from '../../core/machines/machine.ts';
import { buildPageTables, encodeCpuData, PhysMem, TablePageAllocator, type Mapping } from '../fixtures/pagetables.ts';
import { physMemWalkContext } from '../fixtures/walk-context.ts';

const SEGS = [{ start: 0n, size: 0x9f000n }, { start: 0x100000n, size: 0x3f00000n }];

const I386_MAPPINGS: Mapping[] = [
  { va: 0xc0100000n, pa: 0x100000n, size: 0x3000n, page: '4k', noise: true },
  { va: 0xc0400000n, pa: 0x400000n, size: 0x400000n, page: '4m', noise: true },
  { va: 0xe0000000n, pa: 0xffc00000n, size: 0x400000n, page: '4m', noise: true },
];

const PAE_MAPPINGS: Mapping[] = [
  { va: 0xc0100000n, pa: 0x100000n, size: 0x3000n, page: '4k', noise: true },
  { va: 0xc0400000n, pa: 0x400000n, size: 0x200000n, page: '2m', noise: true },
  { va: 0xe0200000n, pa: 0x1_0020_0000n, size: 0x200000n, page: '2m', noise: true },
  { va: 0xd0000000n, pa: 0x1_0000_3000n, size: 0x1000n, page: '4k', noise: true },
];

function setup(flavour: 'i386' | 'i386pae', mappings: Mapping[], seed = 3) {
  const mem = new PhysMem();
  const alloc = new TablePageAllocator(0x10_0000n);
  const pt = buildPageTables(flavour, mem, alloc.next, mappings, { seed });
  const state = i386.open(encodeCpuData(pt.cpuHeaderFields, SEGS));
  return { mem, pt, state, ctx: physMemWalkContext(mem) };
}

describe('i386 module', () => {
  it('has the constants of spec 2.3/2.5/6.1', () => {
    expect(i386).toMatchObject({ name: 'i386', mid: 134, alignBytes: 3, littleEndian: true, longSize: 4, elfClass: 32 });
    expect(i386.elfMachines).toEqual([3]);
  });

  it('parses pdppaddr (u32) and nmemsegs (u32); segments at offset 8 bounded by nmemsegs', () => {
    const cpuData = encodeCpuData({ flavour: 'i386', pdppaddr: 0x5000n }, [...SEGS, { start: 0x8000000n, size: 0x1000n }], { count: 2n });
    const state = i386.open(cpuData);
    expect(state.name).toBe('i386');
    expect(state.fields).toEqual({ pdppaddr: 0x5000n, nmemsegs: 2n });
    expect(state.segments).toEqual(SEGS);
    expect(cpuData.length).toBe(504); // roundup(8 + 8 + 48, 512) - 8
  });

  it('selects the PAE walk from bit 0x200 of pdppaddr, per handle', async () => {
    const plain = setup('i386', I386_MAPPINGS);
    const pae = setup('i386pae', PAE_MAPPINGS);
    expect(plain.state.name).toBe('i386');
    expect(pae.state.name).toBe('i386pae');
    expect(pae.state.fields.pdppaddr).toBe(pae.pt.root | 0x200n);
    // Both handles stay open and keep their own walk (C's process-wide static would not: spec 9.11).
    expect(await plain.state.kvatop(plain.ctx, 0xc0400000n)).toEqual({ pa: 0x400000n, cc: 0x400000 });
    expect(await pae.state.kvatop(pae.ctx, 0xc0400000n)).toEqual({ pa: 0x400000n, cc: 0x200000 });
    expect(await plain.state.kvatop(plain.ctx, 0xc0500000n)).toEqual({ pa: 0x500000n, cc: 0x300000 });
    expect(plain.ctx.reads.every((pa) => pa < 0x1_0000_0000n)).toBe(true);
  });

  it('pa2off: first match wins, miss gives the total size', () => {
    const segs = [{ start: 0x1000n, size: 0x2000n }, { start: 0x2000n, size: 0x1000n }];
    const state = i386.open(encodeCpuData({ flavour: 'i386', pdppaddr: 0n }, segs));
    expect(state.pa2off(0x2800n)).toBe(0x1800);
    expect(state.pa2off(0x3000n)).toBe(0x3000);
    expect(state.pa2off(0n)).toBe(0x3000);
  });

  it('reads a short header as zeros', () => {
    const state = i386.open(new Uint8Array([0x00, 0x52, 0x01]));
    expect(state.name).toBe('i386pae');
    expect(state.fields).toEqual({ pdppaddr: 0x15200n, nmemsegs: 0n });
  });
});

describe('i386 kvatop without PAE', () => {
  it.each([
    ['4 KiB page', 0xc0100000n, 0x100000n, 4096],
    ['4 KiB page, offset', 0xc0102abcn, 0x102abcn, 4096 - 0xabc],
    ['4 MiB page', 0xc0400000n, 0x400000n, 0x400000],
    ['4 MiB page, offset', 0xc07ffffen, 0x7ffffen, 2],
    ['4 MiB page at the top of 32-bit PA space', 0xe0123456n, 0xffd23456n, 0x400000 - 0x123456],
  ])('%s', async (_label, va, pa, cc) => {
    const { state, ctx } = setup('i386', I386_MAPPINGS);
    expect(await state.kvatop(ctx, va)).toEqual({ pa, cc });
    expect(ctx.messages).toEqual([]);
  });

  it('masks frames: PAT bit 7 in a PTE, PAT bit 12 and PSE-36 bits in a 4 MiB PDE', async () => {
    const { mem, pt, state, ctx } = setup('i386', I386_MAPPINGS);
    const [, pte] = pt.entrySlots(0xc0100000n);
    mem.writeWord(pte.pa, pte.entry | 0x80n, 4);
    const [pde] = pt.entrySlots(0xc0400000n);
    mem.writeWord(pde.pa, pde.entry | 0x1000n | 0x1fe000n, 4);
    expect(await state.kvatop(ctx, 0xc0100001n)).toEqual({ pa: 0x100001n, cc: 4095 });
    expect(await state.kvatop(ctx, 0xc0400001n)).toEqual({ pa: 0x400001n, cc: 0x400000 - 1 });
  });

  it('masks the low bits of pdppaddr', async () => {
    const { mem, pt } = setup('i386', I386_MAPPINGS);
    const state = i386.open(encodeCpuData({ flavour: 'i386', pdppaddr: pt.root | 0x1ffn }, SEGS));
    expect(state.name).toBe('i386');
    expect(await state.kvatop(physMemWalkContext(mem), 0xc0100000n)).toEqual({ pa: 0x100000n, cc: 4096 });
  });

  it('uses only the low 32 bits of the VA', async () => {
    const { state, ctx } = setup('i386', I386_MAPPINGS);
    expect(await state.kvatop(ctx, 0x5_c0100000n)).toEqual({ pa: 0x100000n, cc: 4096 });
  });

  it.each([
    [0, 'invalid translation (invalid PDE)', 'could not read PDE'],
    [1, 'invalid translation (invalid PTE)', 'could not read PTE'],
  ])('level %i errors', async (level, invalid, unreadable) => {
    const { mem, pt, state } = setup('i386', I386_MAPPINGS);
    const slot = pt.entrySlots(0xc0100000n)[level];
    const failing = physMemWalkContext(mem, { unreadable: (pa) => pa === slot.pa, errno: 'EIO' });
    expect(await state.kvatop(failing, 0xc0100000n)).toEqual(TRANSLATION_FAILED);
    expect(failing.messages).toEqual([`${unreadable}: Input/output error`]);

    mem.writeWord(slot.pa, slot.entry & ~1n, 4);
    const ctx = physMemWalkContext(mem);
    expect(await state.kvatop(ctx, 0xc0100000n)).toEqual(TRANSLATION_FAILED);
    expect(ctx.messages).toEqual([invalid]);
  });
});

describe('i386 kvatop with PAE', () => {
  it.each([
    ['4 KiB page', 0xc0100000n, 0x100000n, 4096],
    ['4 KiB page, offset', 0xc0102fffn, 0x102fffn, 1],
    ['2 MiB page', 0xc0400000n, 0x400000n, 0x200000],
    ['2 MiB page above 4 GiB', 0xe0212345n, 0x1_0021_2345n, 0x200000 - 0x12345],
    ['4 KiB page above 4 GiB', 0xd0000ff0n, 0x1_0000_3ff0n, 0x10],
  ])('%s', async (_label, va, pa, cc) => {
    const { state, ctx } = setup('i386pae', PAE_MAPPINGS);
    expect(await state.kvatop(ctx, va)).toEqual({ pa, cc });
    expect(ctx.messages).toEqual([]);
  });

  it('indexes 2048 PDEs across the four contiguous directory pages', async () => {
    const { pt, state, ctx } = setup('i386pae', PAE_MAPPINGS);
    await state.kvatop(ctx, 0xe0200000n);
    expect(ctx.reads[0]).toBe(pt.root + ((0xe0200000n >> 21n) * 8n));
    expect(ctx.reads[0] - pt.root).toBeGreaterThan(0x3000n); // in the fourth page
    expect(pt.tablePages.slice(0, 4)).toEqual([0, 1, 2, 3].map((i) => pt.root + BigInt(i) * 0x1000n));
  });

  it('drops NX and the PAT bits from frames', async () => {
    const { mem, pt, state, ctx } = setup('i386pae', PAE_MAPPINGS);
    const [pde, pte] = pt.entrySlots(0xc0100000n);
    mem.writeWord(pde.pa, pde.entry | (1n << 63n), 8);
    mem.writeWord(pte.pa, pte.entry | (1n << 63n) | 0x80n, 8);
    const [big] = pt.entrySlots(0xc0400000n);
    mem.writeWord(big.pa, big.entry | (1n << 63n) | 0x1000n, 8);
    expect(await state.kvatop(ctx, 0xc0100010n)).toEqual({ pa: 0x100010n, cc: 4096 - 0x10 });
    expect(await state.kvatop(ctx, 0xc0400010n)).toEqual({ pa: 0x400010n, cc: 0x200000 - 0x10 });
  });

  it.each([
    [0, 'invalid translation (invalid PDE)', 'could not read PDE'],
    [1, 'invalid translation (invalid PTE)', 'could not read PTE'],
  ])('level %i errors', async (level, invalid, unreadable) => {
    const { mem, pt, state } = setup('i386pae', PAE_MAPPINGS);
    const slot = pt.entrySlots(0xc0100000n)[level];
    const failing = physMemWalkContext(mem, { unreadable: (pa) => pa === slot.pa });
    expect(await state.kvatop(failing, 0xc0100000n)).toEqual(TRANSLATION_FAILED);
    expect(failing.messages).toEqual([`${unreadable}: Invalid argument`]);

    mem.writeWord(slot.pa, slot.entry & ~1n, 8);
    const ctx = physMemWalkContext(mem);
    expect(await state.kvatop(ctx, 0xc0100000n)).toEqual(TRANSLATION_FAILED);
    expect(ctx.messages).toEqual([invalid]);
  });

  it('PAE tables read with the PAE flag cleared fail with "invalid PDE" (mkdump pae-flag-cleared)', async () => {
    const { mem, pt } = setup('i386pae', PAE_MAPPINGS);
    const state = i386.open(encodeCpuData({ flavour: 'i386', pdppaddr: pt.root }, SEGS));
    const ctx = physMemWalkContext(mem);
    expect(state.name).toBe('i386');
    expect(await state.kvatop(ctx, 0xc0100000n)).toEqual(TRANSLATION_FAILED);
    expect(ctx.messages).toEqual(['invalid translation (invalid PDE)']);
  });
});
