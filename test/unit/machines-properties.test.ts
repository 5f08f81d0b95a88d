// Property tests: random page-table shapes built on real bytes must translate exactly as the
// mappings say (pa and cc), fail for every VA outside them, and read the same through a dump's
// memory data (pa2off over a shuffled, split segment table) as straight from physical memory.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PhysRamSeg } from '../../core/format/kcore.ts';
import { MACHINES } from '../../core/machines/index.ts';
import { TRANSLATION_FAILED } from '../../core/machines/machine.ts';
import {
  buildPageTables,
  encodeCpuData,
  memoryData,
  PAGE_BYTES,
  PAGE_KINDS,
  PhysMem,
  TablePageAllocator,
  type Flavour,
  type Mapping,
  type PageKind,
} from '../fixtures/pagetables.ts';
import { dumpDataWalkContext, physMemWalkContext } from '../fixtures/walk-context.ts';

interface Space {
  /** VA windows the mappings are placed in (each `window` bytes long). */
  bases: bigint[];
  window: bigint;
  paLimit: bigint;
  module: 'amd64' | 'i386' | 'aarch64';
}

const SPACES: Record<Flavour, Space> = {
  amd64: { bases: [0xffff800000000000n, 0xfffffe8000000000n, 0xfffffffc00000000n], window: 16n << 30n, paLimit: 1n << 44n, module: 'amd64' },
  i386: { bases: [0n, 0xc0000000n, 0xfc000000n], window: 64n << 20n, paLimit: 1n << 32n, module: 'i386' },
  i386pae: { bases: [0n, 0xc0000000n, 0xfe000000n], window: 32n << 20n, paLimit: 1n << 40n, module: 'i386' },
  aarch64: { bases: [0xffff000000000000n, 0xffffc00000000000n, 0xfffffffc00000000n], window: 16n << 30n, paLimit: 1n << 44n, module: 'aarch64' },
};

const TABLE_BASE = 0x1000_0000n;
const FAILURE_TEXT = /^invalid translation \((invalid (level [432] PDE|PTE|PDE|pte))\)$/;

interface Candidate {
  kind: PageKind;
  slot: bigint;
  pages: number;
  paFrame: bigint;
  noise: boolean;
}

function candidate(flavour: Flavour): fc.Arbitrary<Candidate> {
  const { window, paLimit } = SPACES[flavour];
  return fc
    .constantFrom(...PAGE_KINDS[flavour])
    .chain((kind) =>
      fc.record({
        kind: fc.constant(kind),
        slot: fc.bigInt({ min: 0n, max: window / PAGE_BYTES[kind] - 1n }),
        pages: fc.integer({ min: 1, max: 3 }),
        paFrame: fc.bigInt({ min: 0n, max: paLimit / PAGE_BYTES[kind] - 4n }),
        noise: fc.boolean(),
      }),
    );
}

/** Turn candidates into non-overlapping mappings (first come, first kept; clipped to the window). */
function toMappings(base: bigint, window: bigint, candidates: Candidate[]): Mapping[] {
  const kept: Mapping[] = [];
  for (const c of candidates) {
    const page = PAGE_BYTES[c.kind];
    const start = c.slot * page;
    const size = BigInt(c.pages) * page < window - start ? BigInt(c.pages) * page : window - start;
    const overlaps = kept.some((m) => start < m.va - base + m.size && m.va - base < start + size);
    if (!overlaps) kept.push({ va: base + start, pa: c.paFrame * page, size, page: c.kind, noise: c.noise });
  }
  return kept;
}

/** The table pages as a dump's segment table: split in two and possibly listed in reverse. */
function tableSegments(pages: readonly bigint[], split: number, reverse: boolean): PhysRamSeg[] {
  const end = pages.at(-1)! + 0x1000n;
  const cut = TABLE_BASE + BigInt(split % (pages.length + 1)) * 0x1000n;
  const segs = [{ start: TABLE_BASE, size: cut - TABLE_BASE }, { start: cut, size: end - cut }].filter((s) => s.size > 0n);
  return reverse ? segs.reverse() : segs;
}

function shape(flavour: Flavour) {
  const { bases, window } = SPACES[flavour];
  return fc.record({
    base: fc.constantFrom(...bases),
    candidates: fc.array(candidate(flavour), { minLength: 1, maxLength: 8 }),
    inside: fc.array(fc.tuple(fc.nat(), fc.bigInt({ min: 0n, max: 1n << 40n })), { minLength: 1, maxLength: 8 }),
    anywhere: fc.array(fc.bigInt({ min: 0n, max: window - 1n }), { maxLength: 8 }),
    seed: fc.integer({ min: 0, max: 0x7fffffff }),
    asid: fc.integer({ min: 0, max: 0xffff }),
    split: fc.nat(),
    reverse: fc.boolean(),
  });
}

describe.each(Object.keys(SPACES) as Flavour[])('%s: random page-table shapes', (flavour) => {
  const { window, module } = SPACES[flavour];
  const machine = MACHINES.find((m) => m.name === module)!;

  it('kvatop gives the mapped pa and the bytes to the end of the page; outside VAs fail', async () => {
    await fc.assert(
      fc.asyncProperty(shape(flavour), async (s) => {
        const mem = new PhysMem();
        const alloc = new TablePageAllocator(TABLE_BASE);
        const mappings = toMappings(s.base, window, s.candidates);
        const pt = buildPageTables(flavour, mem, alloc.next, mappings, { seed: s.seed, asid: s.asid });
        const segments = tableSegments(pt.tablePages, s.split, s.reverse);
        const state = machine.open(encodeCpuData(pt.cpuHeaderFields, segments));
        expect(state.name).toBe(flavour);
        const data = memoryData(mem, segments);

        const probes = [
          ...s.inside.map(([i, off]) => {
            const m = mappings[i % mappings.length];
            return m.va + (off % m.size);
          }),
          ...s.anywhere.map((off) => s.base + off),
        ];
        for (const va of probes) {
          const direct = physMemWalkContext(mem);
          const viaDump = dumpDataWalkContext(state, data);
          const got = await state.kvatop(direct, va);
          const expected = pt.expected(va);
          if (expected) {
            expect(got).toEqual(expected);
            expect(direct.messages).toEqual([]);
          } else {
            expect(got).toEqual(TRANSLATION_FAILED);
            expect(direct.messages).toHaveLength(1);
            expect(direct.messages[0]).toMatch(FAILURE_TEXT);
          }
          expect(await state.kvatop(viaDump, va)).toEqual(got);
          expect(viaDump.messages).toEqual(direct.messages);
        }
      }),
      { numRuns: 150 },
    );
  });
});
