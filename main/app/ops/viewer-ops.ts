// The Memory view's questions beyond bytes: where an address is in the other spaces, where memory
// is (regions for the scrollbar's minimap and next/previous region), which symbol holds an
// address, and the Header view's bytes with each field's place. Everything reads through the
// strict layers: a hole is an answer with its reason, never bytes.

import { createHash } from 'node:crypto';
import {
  directMapVa, DIRECT_MAP_BASES, mappedRegions, nextMappedRegion, physicalRegions, previousMappedRegion,
  type AddressRegion, type RegionScan,
} from '../../../core/layers/regions.ts';
import type { DumpView } from '../../../core/layers/dump-view.ts';
import { fieldValue, headerLayout } from '../../../core/format/header-layout.ts';
import { STT_FUNC, STT_OBJECT, type ElfSymbol } from '../../../core/format/elf.ts';
import { toHex } from '../../../core/format/bytes.ts';
import type { OpParsedArgs } from '../../../contract/operations.ts';
import type { HeaderBytes, LocateResult, MemoryRegionsResult, RegionStepResult, SymbolsAtResult } from '../../../contract/results.ts';
import { fromHexAddress, toHexAddress } from '../../../contract/values.ts';
import { OpFailure } from '../dispatch.ts';
import { type HandlerContext, requireSession, withSession } from '../context.ts';
import type { Session } from '../sessions.ts';
import { checkDisk } from '../dump-freshness.ts';
import { symbolsOf } from './symbol-ops.ts';
import { sessionView } from '../session-view.ts';
import { SymbolIndex } from '../../../core/objects/symbolize.ts';

type Space = 'virtual' | 'physical' | 'file';


function requireMemory(view: DumpView, space: Space): void {
  if (space !== 'file' && !view.hasHeader) {
    throw new OpFailure('kvm-error', 'no valid dump header: give the dump offset (or use Scan to find it) before reading memory');
  }
}

/** One past the highest address of a space. */
export function spaceLimit(view: DumpView, space: Space, fileSize: number): bigint {
  if (space === 'file') return BigInt(fileSize);
  if (space === 'physical') return view.longSize === 4 && view.state?.name === 'i386' ? 1n << 32n : 1n << 64n;
  return 1n << BigInt(view.longSize * 8);
}

/** The direct map bases to try: the kernel's own pmap_direct_base when it has one (KASLR), then the defaults. */
async function directBases(view: DumpView): Promise<bigint[]> {
  const name = view.state?.name;
  const defaults = [...(name ? DIRECT_MAP_BASES[name] ?? [] : [])];
  if (name !== 'amd64') return defaults;
  try {
    const r = await view.nlist(['pmap_direct_base']);
    const e = r.entries[0];
    if (e?.found) {
      const got = await view.virtual.read(e.value, 8);
      if (got.faults.length === 0) {
        const base = new DataView(got.data.buffer, got.data.byteOffset, 8).getBigUint64(0, true);
        if (base !== 0n) return [base, ...defaults.filter((d) => d !== base)];
      }
    }
  } catch {
    // No symbols: the defaults, each confirmed by translation, are all we can try.
  }
  return defaults;
}

/** The segment holding a dump-file offset, as a PA (the inverse of the physical layer's placement). */
function fileToPhysical(view: DumpView, offset: bigint): bigint | null {
  const dataOff = offset - BigInt(view.dumpOff);
  if (dataOff < 0n) return null;
  let placed = 0n;
  for (const seg of view.state?.segments ?? []) {
    if (dataOff >= placed && dataOff < placed + seg.size) {
      const pa = seg.start + (dataOff - placed);
      // Overlapping segments: only answer when the physical layer reads this PA from this offset.
      return view.physical.fileOffset(pa) === Number(offset) ? pa : null;
    }
    placed += seg.size;
  }
  return null;
}

export async function locateOp(ctx: HandlerContext, a: OpParsedArgs<'locate'>): Promise<LocateResult> {
  return withSession(ctx, a.sessionId, async (s) => {
    await checkDisk(ctx, s);
    const view = sessionView(s);
    const address = fromHexAddress(a.address);
    const out: LocateResult = { space: a.space, address: toHexAddress(address), virtual: null, physical: null, file: null, note: null };
    if (a.space === 'file') {
      out.file = Number(address);
      if (!view.hasHeader) return { ...out, note: 'no dump header: no memory to map this offset to' };
      const pa = fileToPhysical(view, address);
      if (pa === null) return { ...out, note: `file offset ${address} holds no memory of the dump (header or outside the memory data)` };
      out.physical = toHexAddress(pa);
      const va = await directMapVa(view.virtual, pa, await directBases(view));
      out.virtual = va === null ? null : toHexAddress(va);
      if (va === null) out.note = 'no direct-map VA for this PA on this machine';
      return out;
    }
    requireMemory(view, a.space);
    let pa: bigint;
    if (a.space === 'virtual') {
      out.virtual = toHexAddress(address);
      const tr = await view.virtual.translate(address);
      if (!tr.ok) return { ...out, note: tr.reason };
      pa = tr.pa;
    } else {
      pa = address;
      const va = await directMapVa(view.virtual, pa, await directBases(view));
      out.virtual = va === null ? null : toHexAddress(va);
    }
    out.physical = toHexAddress(pa);
    out.file = view.physical.fileOffset(pa);
    if (out.file === null) out.note = `PA ${toHexAddress(pa)} is in no memory segment of the dump`;
    else if (a.space === 'physical' && out.virtual === null) out.note = 'no direct-map VA for this PA on this machine';
    return out;
  });
}

/** Region scans per session generation: the page-table walk runs once, not per scrollbar paint. */
const regionCache = new WeakMap<object, Map<Space, RegionScan>>();

async function regionsOf(s: Session, view: DumpView, space: Space): Promise<RegionScan> {
  let bySpace = regionCache.get(view);
  if (!bySpace) regionCache.set(view, (bySpace = new Map()));
  const known = bySpace.get(space);
  if (known) return known;
  const limit = spaceLimit(view, space, s.opened.dump.size);
  const scan = space === 'virtual' ? await mappedRegions(view.virtual, 0n, limit)
    : space === 'physical' ? physicalRegions(view.physical, 0n, limit)
      : { regions: limit > 0n ? [{ start: 0n, end: limit }] : [], complete: true, stoppedAt: null, probes: 0 };
  bySpace.set(space, scan);
  return scan;
}

export async function memoryRegionsOp(ctx: HandlerContext, a: OpParsedArgs<'memoryRegions'>): Promise<MemoryRegionsResult> {
  const view = await withSession(ctx, a.sessionId, async (s) => {
    await checkDisk(ctx, s);
    return sessionView(s);
  });
  const s = requireSession(ctx, a.sessionId);
  {
    requireMemory(view, a.space);
    // The page-table scan reads only through the strict layers (no handle state), so it runs beside
    // the session's other requests instead of holding the rows of the grid back.
    const scan = await regionsOf(s, view, a.space);
    return {
      space: a.space,
      limit: toHexAddress(spaceLimit(view, a.space, s.opened.dump.size)),
      regions: scan.regions.map((r) => ({ start: toHexAddress(r.start), end: toHexAddress(r.end) })),
      complete: scan.complete,
      stoppedAt: scan.stoppedAt === null ? null : toHexAddress(scan.stoppedAt),
    };
  }
}

function stepInList(regions: readonly AddressRegion[], from: bigint, direction: 'next' | 'previous'): RegionStepResult {
  if (direction === 'next') {
    const r = regions.find((x) => x.start > from);
    return r ? { address: toHexAddress(r.start), reason: null } : { address: null, reason: `no memory after ${toHexAddress(from)}` };
  }
  // Regions are sorted and disjoint: those ending by `from` are exactly the ones before the region
  // (or hole) holding it.
  const r = regions.filter((x) => x.end <= from).at(-1);
  return r ? { address: toHexAddress(r.start), reason: null } : { address: null, reason: `no memory before ${toHexAddress(from)}` };
}

export async function stepRegionOp(ctx: HandlerContext, a: OpParsedArgs<'stepRegion'>): Promise<RegionStepResult> {
  return withSession(ctx, a.sessionId, async (s) => {
    await checkDisk(ctx, s);
    const view = sessionView(s);
    requireMemory(view, a.space);
    const from = fromHexAddress(a.from);
    if (a.space !== 'virtual') return stepInList((await regionsOf(s, view, a.space)).regions, from, a.direction);
    const step = a.direction === 'next'
      ? await nextMappedRegion(view.virtual, from, spaceLimit(view, 'virtual', 0))
      : await previousMappedRegion(view.virtual, from);
    return step.found ? { address: toHexAddress(step.address), reason: null } : { address: null, reason: step.reason };
  });
}

/** Functions and objects by address, one index per loaded symbol table. */
const indexCache = new WeakMap<ElfSymbol[], SymbolIndex<ElfSymbol>>();
function symbolIndex(all: ElfSymbol[]): SymbolIndex<ElfSymbol> {
  let index = indexCache.get(all);
  if (!index) {
    index = new SymbolIndex(all.filter((x) => x.type === STT_FUNC || x.type === STT_OBJECT));
    indexCache.set(all, index);
  }
  return index;
}

export async function symbolsAtOp(ctx: HandlerContext, a: OpParsedArgs<'symbolsAt'>): Promise<SymbolsAtResult> {
  const s = ctx.sessions.get(a.sessionId);
  if (!s) throw new OpFailure('not-found', `no open dump with id ${a.sessionId}`);
  const index = symbolIndex(await symbolsOf(s));
  return {
    symbols: a.addresses.map((text) => {
      const held = index.holding(fromHexAddress(text));
      if (!held) return null;
      const sym = held.symbol;
      return { name: sym.name, value: toHexAddress(sym.value), offset: toHexAddress(held.offset), size: Number(sym.size) };
    }),
  };
}

/** Header bytes shown at most (a corrupt segment count cannot make the view read megabytes). */
const MAX_HEADER_BYTES = 64 * 1024;

export async function headerBytesOp(ctx: HandlerContext, a: OpParsedArgs<'headerBytes'>): Promise<HeaderBytes> {
  return withSession(ctx, a.sessionId, async (s) => {
    await checkDisk(ctx, s);
    const view = sessionView(s);
    const state = view.state;
    if (!view.hasHeader || !state || !view.module) throw new OpFailure('kvm-error', 'no valid dump header to show');
    const offset = view.isCoreFile ? 0 : (s.params.dumpOffset ?? 0);
    const kc = view.isCoreFile ? await view.file.read(0, 12) : null;
    const u16 = (b: Uint8Array, at: number) => (view.littleEndian ? b[at]! | (b[at + 1]! << 8) : (b[at]! << 8) | b[at + 1]!);
    const layout = headerLayout({
      isCoreFile: view.isCoreFile, machine: state.name, alignBytes: view.module.alignBytes, cpuDataSize: view.cpuDataSize,
      segmentCount: Math.min(state.segments.length, 256),
      ...(kc && kc.faults.length === 0 ? { hdrSize: u16(kc.data, 4), segHdrSize: u16(kc.data, 6) } : {}),
    });
    const length = Math.min(layout.length, MAX_HEADER_BYTES);
    const got = await view.file.read(offset, length);
    if (got.faults.length > 0) throw new OpFailure('kvm-error', `header at file offset ${offset}: ${got.faults[0]!.reason}`);
    const fields = layout.fields.filter((f) => f.offset + f.length <= length).map((f) => ({
      group: f.group, name: f.name, offset: f.offset, length: f.length, value: fieldValue(got.data, f, view.littleEndian) ?? '',
    }));
    return { offset, dumplo: view.isCoreFile ? null : offset, data: toHex(got.data), fields, truncated: length < layout.length };
  });
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
