// Rows of kernel virtual memory, read through the dump's page tables one page at a time (pages
// translate independently, so a fault covers exactly the pages that have no translation).
// Recently read pages are cached.

import type { KvmdumpApi } from '../../../contract/client.ts';
import type { ByteFault, HexCell, HexRow, RowProvider } from './provider.ts';
import { fromWire, toWire } from '../util/format.ts';

interface PageData {
  /** Readable bytes from the page start. */
  bytes: Uint8Array;
  /** Why the rest of the page is unreadable, when bytes is shorter than the page. */
  fault: ByteFault | null;
}

const CACHE_PAGES = 256;

function fromHex(s: string): Uint8Array {
  const out = new Uint8Array(s.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export class KvmMemoryProvider implements RowProvider {
  readonly bytesPerRow = 16;
  readonly limit: bigint;
  private readonly cache = new Map<bigint, Promise<PageData>>();

  constructor(
    private readonly api: KvmdumpApi,
    private readonly sessionId: string,
    private readonly pageSize: number,
    addressBits: number,
  ) {
    this.limit = 1n << BigInt(addressBits);
  }

  /** Forget cached pages (after a write to the dump). */
  invalidate(): void {
    this.cache.clear();
  }

  async rows(start: bigint, count: number): Promise<HexRow[]> {
    const out: HexRow[] = [];
    for (let i = 0; i < count; i++) {
      const address = start + BigInt(i * this.bytesPerRow);
      if (address >= this.limit) break;
      out.push({ address, cells: await this.cells(address, this.bytesPerRow) });
    }
    return out;
  }

  private async cells(address: bigint, n: number): Promise<HexCell[]> {
    const cells: HexCell[] = [];
    const size = BigInt(this.pageSize);
    for (let i = 0; i < n; i++) {
      const a = address + BigInt(i);
      const base = a - (a % size);
      const page = await this.page(base);
      const off = Number(a - base);
      cells.push(off < page.bytes.length ? { value: page.bytes[off]! } : { fault: page.fault ?? { at: a, reason: 'not read', kind: 'error' } });
    }
    return cells;
  }

  private page(base: bigint): Promise<PageData> {
    let p = this.cache.get(base);
    if (!p) {
      p = this.fetch(base);
      this.cache.set(base, p);
      if (this.cache.size > CACHE_PAGES) this.cache.delete(this.cache.keys().next().value!);
    }
    return p;
  }

  private async fetch(base: bigint): Promise<PageData> {
    const r = await this.api.read({ sessionId: this.sessionId, va: toWire(base), length: this.pageSize });
    if (!r.ok) {
      this.cache.delete(base); // an operation error (e.g. session closed) is not a property of the page
      return { bytes: new Uint8Array(0), fault: { at: base, reason: r.error.message, kind: 'error' } };
    }
    const v = r.value;
    const bytes = fromHex(v.data);
    if (!v.fault) return { bytes, fault: null };
    const at = v.fault.va ? fromWire(v.fault.va) : base + BigInt(bytes.length);
    const reason = v.stop === 'unmapped' ? `unmapped: ${v.fault.reason ?? v.fault.message}` : v.fault.message;
    return { bytes, fault: { at, reason, kind: v.stop ?? 'error' } };
  }
}
