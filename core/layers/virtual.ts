// The kernel virtual layer: one per machine, over the physical layer. Translation runs the
// architecture's own walker (core/machines, the same code libkvm's kvatop runs) with entries read
// strictly and every level recorded, so the walk listed is the walk taken; a failed walk is a typed
// fault at its level. A read stitches pages and reports each unmapped or unreadable range.

import { ByteView } from '../format/bytes.ts';
import type { MachineState, VisitedEntry, WalkContext } from '../machines/machine.ts';
import { hex, StrictReadBuilder, wholeFault } from './faults.ts';
import type { PhysicalLayer } from './physical.ts';
import type { ReadFault, StrictRead, Translated, Translation, TranslationFault, VirtualSpace, WalkLevel } from './types.ts';

const VA_LIMIT = 1n << 64n;
const AMD64_HIGH_HALF = 0xffff800000000000n;
const AMD64_LOW_END = 1n << 47n;
const AARCH64_KERNEL_VA = 0xffff000000000000n;

/** The VAs a machine's page tables can describe, and where the next such VA is. */
interface VaRange {
  holds(va: bigint): boolean;
  /** The first describable VA above va (VA_LIMIT when none). */
  next(va: bigint): bigint;
  /** The last describable VA below va (-1 when none). */
  prev(va: bigint): bigint;
  describe: string;
}

function vaRange(state: MachineState): VaRange {
  switch (state.name) {
    case 'i386':
    case 'i386pae':
      return { holds: (va) => va < 1n << 32n, next: () => VA_LIMIT, prev: (va) => (va >= 1n << 32n ? (1n << 32n) - 1n : -1n), describe: 'above the 32-bit address space' };
    case 'amd64':
      return {
        holds: (va) => va < AMD64_LOW_END || va >= AMD64_HIGH_HALF,
        next: (va) => (va < AMD64_HIGH_HALF ? AMD64_HIGH_HALF : VA_LIMIT),
        prev: (va) => (va >= AMD64_LOW_END ? AMD64_LOW_END - 1n : -1n),
        describe: 'non-canonical (bits 63..47 differ)',
      };
    case 'aarch64':
      return {
        holds: (va) => (va & AARCH64_KERNEL_VA) === AARCH64_KERNEL_VA,
        next: (va) => (va < AARCH64_KERNEL_VA ? AARCH64_KERNEL_VA : VA_LIMIT),
        prev: () => -1n,
        describe: 'not a kernel address (bits 63..48 are not all set)',
      };
  }
}

/** Entries kept before the cache starts over (a few MiB at most). */
const ENTRY_CACHE_LIMIT = 1 << 16;

/**
 * Page-table entries already read whole through the strict physical layer, by PA and size. The
 * walk still runs every level and records every entry, so the walk listed is still the walk taken;
 * only the file read of an entry read before is skipped. A read that faulted is never kept (the
 * next walk reads again). A layer lives as long as one opened dump and its header (the app keeps one
 * per session in main/app/session-view.ts); the workbench reopens the dump after any write of its
 * own and when the file changes on disk, so a kept entry is the bytes on the medium.
 */
class EntryCache {
  private readonly words = new Map<bigint, bigint>();

  get(pa: bigint, size: 4 | 8): bigint | undefined {
    return this.words.get((pa << 4n) | BigInt(size));
  }

  set(pa: bigint, size: 4 | 8, word: bigint): void {
    if (this.words.size >= ENTRY_CACHE_LIMIT) this.words.clear();
    this.words.set((pa << 4n) | BigInt(size), word);
  }
}

/**
 * Successful translations by the page (or large page, or block) that maps them: a VA in a page
 * translated before gets the same PA offset and the same walk — the walk a fresh walk would take,
 * since it reads the same entries of the same dump. Faults are never kept.
 */
class PageCache {
  /** The page sizes seen, largest first: a large page is looked up before the 4 KiB pages around it. */
  private sizes: number[] = [];
  /** pageSize → (VA / pageSize) → the translation of the page's first byte. */
  private readonly bySize = new Map<number, Map<number, Translated>>();
  private count = 0;

  get(va: bigint): Translated | undefined {
    if (this.count === 0) return undefined;
    const page4k = Number(va >> 12n);
    for (const size of this.sizes) {
      const hit = this.bySize.get(size)!.get(Math.floor(page4k / (size / 4096)));
      if (hit) return { ok: true, va, pa: hit.pa + (va & BigInt(size - 1)), pageSize: size, walk: hit.walk };
    }
    return undefined;
  }

  set(tr: Translated): void {
    const size = tr.pageSize;
    if (size < 4096 || (size & (size - 1)) !== 0) return;
    if (this.count >= ENTRY_CACHE_LIMIT) {
      this.bySize.clear();
      this.sizes = [];
      this.count = 0;
    }
    let pages = this.bySize.get(size);
    if (!pages) {
      this.bySize.set(size, (pages = new Map()));
      this.sizes = [...this.bySize.keys()].sort((x, y) => y - x);
    }
    const mask = BigInt(size - 1);
    pages.set(Math.floor(Number(tr.va >> 12n) / (size / 4096)), { ...tr, va: tr.va & ~mask, pa: tr.pa - (tr.va & mask) });
    this.count++;
  }
}

/** Records the walk and why it stopped, reading entries through the strict physical layer. */
class StrictWalk implements WalkContext {
  readonly walk: WalkLevel[] = [];
  readFault: ReadFault | null = null;
  errMessage: string | null = null;
  syserrMessage: string | null = null;

  constructor(
    private readonly physical: PhysicalLayer,
    private readonly littleEndian: boolean,
    private readonly cache: EntryCache,
  ) {}

  async readEntry(pa: bigint, size: 4 | 8): Promise<bigint | null> {
    const known = this.cache.get(pa, size);
    if (known !== undefined) return known;
    const got = await this.physical.read(pa, size);
    if (got.faults.length > 0) {
      this.readFault = got.faults[0];
      return null;
    }
    const word = new ByteView(got.data, this.littleEndian).word(0, size);
    this.cache.set(pa, size, word);
    return word;
  }

  err(msg: string): void {
    this.errMessage = msg;
  }

  syserr(msg: string): void {
    this.syserrMessage = msg;
  }

  visit(step: VisitedEntry): void {
    const level: WalkLevel = {
      level: step.level, name: step.name, tableAddress: step.tableAddress, index: step.index,
      entryAddress: step.entryAddress, span: step.span,
      ...(step.entry !== undefined ? { entry: step.entry, flags: step.flags } : {}),
    };
    if (step.entry !== undefined && this.walk.at(-1)?.entryAddress === step.entryAddress && this.walk.at(-1)?.entry === undefined) {
      this.walk[this.walk.length - 1] = level;
    } else {
      this.walk.push(level);
    }
  }
}

export class VirtualLayer implements VirtualSpace {
  readonly pointerSize: 4 | 8;
  readonly littleEndian: boolean;
  private readonly range: VaRange;
  private readonly entries = new EntryCache();
  private readonly pages = new PageCache();

  constructor(
    private readonly state: MachineState,
    readonly physical: PhysicalLayer,
    opts: { pointerSize: 4 | 8; littleEndian: boolean },
  ) {
    this.pointerSize = opts.pointerSize;
    this.littleEndian = opts.littleEndian;
    this.range = vaRange(state);
  }

  async translate(va: bigint): Promise<Translation> {
    if (va < 0n || va >= VA_LIMIT || !this.range.holds(va)) {
      return { ok: false, va, kind: 'out-of-range', level: null, entryAddress: null, entry: null, walk: [], reason: `VA ${hex(va)} is ${this.range.describe}` };
    }
    const known = this.pages.get(va);
    if (known) return known;
    const ctx = new StrictWalk(this.physical, this.littleEndian, this.entries);
    const tr = await this.state.kvatop(ctx, va);
    if (tr.cc > 0) {
      const leaf = ctx.walk.at(-1)!;
      const done: Translated = { ok: true, va, pa: tr.pa, pageSize: Number(leaf.span), walk: ctx.walk };
      this.pages.set(done);
      return done;
    }
    return this.fault(va, ctx);
  }

  private fault(va: bigint, ctx: StrictWalk): TranslationFault {
    const last = ctx.walk.at(-1);
    const base = { ok: false as const, va, walk: ctx.walk, level: last?.level ?? null, entryAddress: last?.entryAddress ?? null, entry: last?.entry ?? null };
    if (ctx.syserrMessage !== null && last) {
      const why = ctx.readFault?.reason ?? 'the entry could not be read';
      return {
        ...base, kind: 'entry-unreadable', errno: ctx.readFault?.errno,
        reason: `${last.name} (level ${last.level}) at PA ${hex(last.entryAddress)} could not be read: ${why}`,
      };
    }
    if (ctx.errMessage !== null && last?.entry !== undefined) {
      return { ...base, kind: 'not-present', reason: `${last.name} (level ${last.level}) at PA ${hex(last.entryAddress)} is not present (entry ${hex(last.entry)})` };
    }
    if (ctx.errMessage !== null) return { ...base, kind: 'out-of-range', reason: `VA ${hex(va)}: ${ctx.errMessage}` };
    // Only aarch64 fails without a message: TCR_EL1 gives no usable granule or VA size.
    return { ...base, kind: 'bad-entry', reason: 'TCR_EL1 describes no usable translation (granule or T1SZ)' };
  }

  async read(va: bigint, length: number): Promise<StrictRead> {
    const out = new StrictReadBuilder(length);
    let done = 0;
    while (done < length) {
      const cur = va + BigInt(done);
      const left = length - done;
      const tr = await this.translate(cur);
      if (tr.ok) {
        const inPage = Number(cur & BigInt(tr.pageSize - 1));
        const n = Math.min(left, tr.pageSize - inPage);
        // straight into the answer; a physical fault is re-addressed in VA
        const at = done;
        await this.physical.readInto({
          data: out.data,
          fault: (f) => {
            const fva = cur + BigInt(f.offset - at);
            out.fault({ ...f, address: fva, reason: `VA ${hex(fva)} → ${f.reason}` });
          },
        }, at, tr.pa, n);
        done += n;
        continue;
      }
      const n = Math.min(left, faultSpan(cur, tr, this.range));
      out.fault({ offset: done, length: n, kind: tr.kind, reason: tr.reason, address: cur, walk: tr.walk, ...(tr.errno ? { errno: tr.errno } : {}) });
      done += n;
    }
    return out.finish();
  }

  /**
   * The VA range a failed translation stands for: every VA in it fails the same way (the failing
   * entry covers it, or it is outside what the tables describe). Region scans skip it whole.
   */
  faultExtent(tr: TranslationFault): { start: bigint; end: bigint } {
    const va = tr.va;
    if (tr.kind === 'out-of-range' && !this.range.holds(va)) {
      return { start: this.range.prev(va) + 1n, end: this.range.next(va) };
    }
    const span = tr.walk.at(-1)?.span ?? 0n;
    if (span <= 0n) return { start: va, end: va + 1n };
    const start = (va / span) * span;
    return { start, end: start + span };
  }
}

/** How far a translation fault at cur reaches: the rest of the range the failing entry covers. */
function faultSpan(cur: bigint, tr: TranslationFault, range: VaRange): number {
  const failed = tr.walk.at(-1);
  let end: bigint;
  if (tr.kind === 'out-of-range') end = range.holds(cur) ? VA_LIMIT : range.next(cur);
  else if (failed?.span) end = (cur / failed.span + 1n) * failed.span;
  else end = VA_LIMIT;
  const n = end - cur;
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
}

/** A virtual space with no memory: the dump header is not set up yet. */
export function noHeaderVirtual(pointerSize: 4 | 8, littleEndian: boolean): VirtualSpace {
  const reason = 'no dump header is set up, so there is no memory to read';
  return {
    pointerSize, littleEndian,
    translate: async (va) => ({ ok: false, va, kind: 'no-header', level: null, entryAddress: null, entry: null, walk: [], reason }),
    read: async (va, length) => wholeFault(length, { kind: 'no-header', address: va, reason }),
    faultExtent: () => ({ start: 0n, end: VA_LIMIT }),
  };
}
