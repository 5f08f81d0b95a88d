// Where memory is: the mapped regions of kernel virtual memory found by walking the page tables,
// skipping each hole whole (a not-present entry at a high level stands for all the VAs it covers),
// and the direct map's VA for a physical address where the architecture has one. Every scan is
// bounded by a probe budget so a hostile page table cannot make it run for ever.

import type { PhysicalSpace, Translation, VirtualSpace } from './types.ts';

export interface AddressRegion {
  start: bigint;
  /** Exclusive. */
  end: bigint;
}

export interface RegionScan {
  regions: AddressRegion[];
  /** False when the probe or region budget ran out before `to`; `stoppedAt` says where. */
  complete: boolean;
  stoppedAt: bigint | null;
  probes: number;
}

export interface RegionScanOptions {
  /** Translations to try at most (default 200 000). */
  maxProbes?: number;
  /** Regions to return at most (default 10 000). */
  maxRegions?: number;
  signal?: { readonly aborted: boolean };
}

const DEFAULT_PROBES = 200_000;
const DEFAULT_REGIONS = 10_000;

/** The VA range one translation answers for: the page that maps va, or the hole it is in. */
function extentOf(vm: VirtualSpace, tr: Translation): { mapped: boolean; start: bigint; end: bigint } {
  if (tr.ok) {
    const size = BigInt(tr.pageSize);
    const start = tr.va - (tr.va % size);
    return { mapped: true, start, end: start + size };
  }
  const e = vm.faultExtent(tr);
  return { mapped: false, start: e.start <= tr.va ? e.start : tr.va, end: e.end > tr.va ? e.end : tr.va + 1n };
}

/** Mapped VA regions in [from, to), adjacent pages merged. */
export async function mappedRegions(vm: VirtualSpace, from: bigint, to: bigint, opts: RegionScanOptions = {}): Promise<RegionScan> {
  const maxProbes = opts.maxProbes ?? DEFAULT_PROBES;
  const maxRegions = opts.maxRegions ?? DEFAULT_REGIONS;
  const regions: AddressRegion[] = [];
  let cur = from;
  let probes = 0;
  while (cur < to) {
    if (probes >= maxProbes || opts.signal?.aborted) return { regions, complete: false, stoppedAt: cur, probes };
    const ext = extentOf(vm, await vm.translate(cur));
    probes++;
    if (ext.mapped) {
      const end = ext.end < to ? ext.end : to;
      const last = regions.at(-1);
      if (last && last.end === cur) last.end = end;
      else if (regions.length >= maxRegions) return { regions, complete: false, stoppedAt: cur, probes };
      else regions.push({ start: cur, end });
    }
    cur = ext.end;
  }
  return { regions, complete: true, stoppedAt: null, probes };
}

export type RegionStep = { found: true; address: bigint } | { found: false; reason: string };

/**
 * The start of the next mapped region after the one holding `from` (or after the hole holding it),
 * searching up to `limit`.
 */
export async function nextMappedRegion(vm: VirtualSpace, from: bigint, limit: bigint, maxProbes = DEFAULT_PROBES): Promise<RegionStep> {
  let cur = from;
  let probes = 0;
  let leftRegion = false;
  while (cur < limit) {
    if (probes++ >= maxProbes) return { found: false, reason: `no mapped region found within ${maxProbes} translations after 0x${from.toString(16)}` };
    const ext = extentOf(vm, await vm.translate(cur));
    if (!ext.mapped) leftRegion = true;
    else if (leftRegion) return { found: true, address: cur };
    cur = ext.end;
  }
  return { found: false, reason: `no mapped memory after 0x${from.toString(16)}` };
}

/** The start of the mapped region before the one holding `from` (or before the hole holding it). */
export async function previousMappedRegion(vm: VirtualSpace, from: bigint, maxProbes = DEFAULT_PROBES): Promise<RegionStep> {
  let probes = 0;
  const none: RegionStep = { found: false, reason: `no mapped memory before 0x${from.toString(16)}` };
  const probe = async (va: bigint) => {
    if (probes++ >= maxProbes) throw new RangeError(`no region start found within ${maxProbes} translations`);
    return extentOf(vm, await vm.translate(va));
  };
  /** The first VA of the run of pages (all mapped, or all holes) that holds va. */
  const runStart = async (va: bigint): Promise<{ start: bigint; mapped: boolean }> => {
    let here = await probe(va);
    const mapped = here.mapped;
    while (here.start > 0n) {
      const before = await probe(here.start - 1n);
      if (before.mapped !== mapped) break;
      here = before;
    }
    return { start: here.start, mapped };
  };
  try {
    let run = await runStart(from);
    if (run.mapped) {
      if (run.start === 0n) return none;
      run = await runStart(run.start - 1n); // the hole before
    }
    if (run.start === 0n) return none;
    return { found: true, address: (await runStart(run.start - 1n)).start };
  } catch (e) {
    if (e instanceof RangeError) return { found: false, reason: e.message };
    throw e;
  }
}

/** Physical regions: the dump's memory segments in [from, to), merged where they touch. */
export function physicalRegions(physical: PhysicalSpace, from: bigint, to: bigint, maxRegions = DEFAULT_REGIONS): RegionScan {
  const regions: AddressRegion[] = [];
  let cur = from;
  while (cur < to) {
    const want = to - cur;
    const length = want > 1n << 52n ? Number(1n << 52n) : Number(want);
    const pieces = physical.mapping(cur, length);
    if (pieces.length === 0) break;
    for (const p of pieces) {
      if (p.kind !== 'run') continue;
      const end = p.pa + BigInt(p.length);
      const last = regions.at(-1);
      if (last && last.end === p.pa) last.end = end;
      else if (regions.length >= maxRegions) return { regions, complete: false, stoppedAt: p.pa, probes: 0 };
      else regions.push({ start: p.pa, end });
    }
    cur += BigInt(length);
  }
  return { regions, complete: true, stoppedAt: null, probes: 0 };
}

/**
 * The VA the direct map gives pa, tried at each candidate base and confirmed by translating it back
 * (so a wrong base, a KASLR'd one or a machine without a direct map answers null, never a guess).
 */
export async function directMapVa(vm: VirtualSpace, pa: bigint, bases: readonly bigint[]): Promise<bigint | null> {
  for (const base of bases) {
    const va = base + pa;
    if (va >= 1n << BigInt(vm.pointerSize * 8)) continue;
    const tr = await vm.translate(va);
    if (tr.ok && tr.pa === pa) return va;
  }
  return null;
}

/** Where each architecture's NetBSD kernel puts its direct map when not randomised. */
export const DIRECT_MAP_BASES: Readonly<Record<string, readonly bigint[]>> = {
  // amd64: L4_SLOT_DIRECT 509 (current) and 256 (older kernels); KASLR kernels keep it in pmap_direct_base.
  amd64: [0xfffffe8000000000n, 0xffff800000000000n],
  // aarch64: AARCH64_DIRECTMAP_START.
  aarch64: [0xffff000000000000n],
  i386: [],
  i386pae: [],
};
