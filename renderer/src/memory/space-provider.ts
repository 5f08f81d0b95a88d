// Rows of one address space (kernel virtual, physical, dump-file offset) read through main's strict
// readMemory a block at a time: every byte is either memory or a fault with its reason, never a
// zero standing in for a hole. Recently read blocks are cached per provider; a provider belongs to
// one session generation, so bytes from before a reopen are never shown after it.

import type { KvmdumpApi } from '../../../contract/client.ts';
import type { MemoryFaultInfo } from '../../../contract/results.ts';
import type { ByteFault, HexCell, HexRow, RowProvider } from './provider.ts';
import { fromWire, toWire } from '../util/format.ts';

export type Space = 'virtual' | 'physical' | 'file';

interface Block {
  bytes: Uint8Array;
  /** Per byte: the fault that covers it, or null for memory. */
  faults: (ByteFault | null)[] | null;
}

const BLOCK = 4096;
const CACHE_BLOCKS = 256;

function fromHex(s: string): Uint8Array {
  const out = new Uint8Array(s.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(i * 2, i * 2 + 2), 16);
  return out;
}

const KIND: Record<string, ByteFault['kind']> = {
  'not-present': 'unmapped', 'out-of-range': 'unmapped', 'bad-entry': 'unmapped', 'entry-unreadable': 'unmapped',
  'outside-segments': 'not-in-dump', eof: 'eof', io: 'io',
};

function byteFault(f: MemoryFaultInfo): ByteFault {
  const kind = KIND[f.kind] ?? 'error';
  return { at: fromWire(f.address), reason: kind === 'unmapped' ? `unmapped: ${f.reason}` : f.reason, kind };
}

export class SpaceProvider implements RowProvider {
  readonly bytesPerRow = 16;
  private readonly cache = new Map<bigint, Promise<Block>>();

  constructor(
    private readonly api: KvmdumpApi,
    private readonly sessionId: string,
    readonly space: Space,
    readonly limit: bigint,
  ) {}

  async rows(start: bigint, count: number): Promise<HexRow[]> {
    const end = start + BigInt(count * this.bytesPerRow);
    const all = await this.cells(start, Number((end < this.limit ? end : this.limit) - start));
    const out: HexRow[] = [];
    for (let i = 0; i * this.bytesPerRow < all.length; i++) {
      out.push({ address: start + BigInt(i * this.bytesPerRow), cells: all.slice(i * this.bytesPerRow, (i + 1) * this.bytesPerRow) });
    }
    return out;
  }

  /** n cells from address: values, or faults with their reasons. */
  async cells(address: bigint, n: number): Promise<HexCell[]> {
    // The blocks first, side by side (one request each, cached), then the cells without awaiting.
    const size = BigInt(BLOCK);
    const blocks = new Map<bigint, Block>();
    const bases: bigint[] = [];
    for (let b = address - (address % size); b < address + BigInt(n) && b < this.limit; b += size) bases.push(b);
    await Promise.all(bases.map(async (b) => blocks.set(b, await this.block(b))));
    const cells: HexCell[] = [];
    for (let i = 0; i < n; i++) {
      const a = address + BigInt(i);
      if (a >= this.limit) break;
      const base = a - (a % size);
      const b = blocks.get(base)!;
      const off = Number(a - base);
      const f = b.faults?.[off] ?? null;
      cells.push(f ? { fault: f } : off < b.bytes.length ? { value: b.bytes[off]! } : { fault: { at: a, reason: 'past the end of the space', kind: 'eof' } });
    }
    return cells;
  }

  /** The readable bytes from address, up to n: stops at the first unreadable one. */
  async readable(address: bigint, n: number): Promise<Uint8Array> {
    const cells = await this.cells(address, n);
    const end = cells.findIndex((c) => 'fault' in c);
    return Uint8Array.from((end < 0 ? cells : cells.slice(0, end)) as { value: number }[], (c) => c.value);
  }

  private block(base: bigint): Promise<Block> {
    let p = this.cache.get(base);
    if (!p) {
      p = this.fetch(base);
      this.cache.set(base, p);
      if (this.cache.size > CACHE_BLOCKS) this.cache.delete(this.cache.keys().next().value!);
    }
    return p;
  }

  private async fetch(base: bigint): Promise<Block> {
    const left = this.limit - base;
    const length = left < BigInt(BLOCK) ? Number(left) : BLOCK;
    const r = await this.api.readMemory({ sessionId: this.sessionId, space: this.space, address: toWire(base), length });
    if (!r.ok) {
      this.cache.delete(base); // an operation error (session closed…) is not a property of the block
      const f: ByteFault = { at: base, reason: r.error.message, kind: 'error' };
      return { bytes: new Uint8Array(0), faults: new Array(length).fill(f) };
    }
    const bytes = fromHex(r.value.data);
    if (r.value.faults.length === 0) return { bytes, faults: null };
    const faults: (ByteFault | null)[] = new Array(length).fill(null);
    for (const f of r.value.faults) {
      const bf = byteFault(f);
      for (let i = f.offset; i < Math.min(length, f.offset + f.length); i++) faults[i] = bf;
    }
    return { bytes, faults };
  }
}
