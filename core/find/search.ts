// Find over memory: a pattern searched through the strict layers, region by region (mapped VA
// regions from the page tables, or physical segments), in fixed-size chunks with an overlap so a
// match across a page or chunk boundary is found, and never across a hole or through faulted
// bytes. Constant memory, progress, cancel, a cap on hits.

import type { StrictRead } from '../layers/types.ts';
import type { AddressRegion } from '../layers/regions.ts';
import { matchesIn, type BytePattern } from './pattern.ts';

export interface FindOptions {
  maxHits?: number;
  chunkBytes?: number;
  signal?: { readonly aborted: boolean };
  /** Bytes searched so far of the total. */
  onProgress?: (done: bigint, total: bigint) => void;
}

export interface FindResult {
  hits: bigint[];
  /** True when maxHits stopped the search early. */
  truncated: boolean;
  searchedBytes: bigint;
  /** Bytes inside the regions that could not be read (faults), skipped. */
  faultedBytes: bigint;
}

const DEFAULT_CHUNK = 1 << 20;

/** [start, end) runs of 1s in good at least minLength long. */
function readableRuns(good: Uint8Array, minLength: number): [number, number][] {
  const runs: [number, number][] = [];
  let i = 0;
  while (i < good.length) {
    const start = good.indexOf(1, i);
    if (start < 0) break;
    let end = good.indexOf(0, start);
    if (end < 0) end = good.length;
    if (end - start >= minLength) runs.push([start, end]);
    i = end;
  }
  return runs;
}

export class FindCancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

export async function findInRegions(
  regions: readonly AddressRegion[],
  read: (address: bigint, length: number) => Promise<StrictRead>,
  pattern: BytePattern,
  opts: FindOptions = {},
): Promise<FindResult> {
  const maxHits = opts.maxHits ?? 1000;
  const chunk = Math.max(opts.chunkBytes ?? DEFAULT_CHUNK, pattern.bytes.length * 2);
  const overlap = pattern.bytes.length - 1;
  const total = regions.reduce((t, r) => t + (r.end - r.start), 0n);
  const hits: bigint[] = [];
  let searched = 0n;
  let faulted = 0n;
  for (const region of regions) {
    // Each step reads [pos - carry, pos + n): the carried tail of the last chunk plus new bytes.
    let pos = region.start;
    let carry = new Uint8Array(0);
    let carryOk = new Uint8Array(0);
    while (pos < region.end) {
      if (opts.signal?.aborted) throw new FindCancelled();
      const left = region.end - pos;
      const n = left < BigInt(chunk) ? Number(left) : chunk;
      const got = await read(pos, n);
      const ok = new Uint8Array(n).fill(1);
      for (const f of got.faults) {
        ok.fill(0, f.offset, Math.min(n, f.offset + f.length));
        faulted += BigInt(Math.min(n, f.offset + f.length) - f.offset);
      }
      const data = new Uint8Array(carry.length + n);
      data.set(carry, 0);
      data.set(got.data, carry.length);
      const good = new Uint8Array(carry.length + n);
      good.set(carryOk, 0);
      good.set(ok, carry.length);
      const base = pos - BigInt(carry.length);
      // Only runs of readable bytes are searched: a match never includes a faulted byte, and a
      // chunk that is all hole (most of a sparse direct map) costs nothing.
      for (const [runStart, runEnd] of readableRuns(good, pattern.bytes.length)) {
        for (const at of matchesIn(data.subarray(runStart, runEnd), pattern)) {
          hits.push(base + BigInt(runStart + at));
          if (hits.length >= maxHits) {
            searched += BigInt(n);
            opts.onProgress?.(searched, total);
            return { hits, truncated: true, searchedBytes: searched, faultedBytes: faulted };
          }
        }
      }
      const keep = Math.min(overlap, data.length);
      carry = data.slice(data.length - keep);
      carryOk = good.slice(good.length - keep);
      pos += BigInt(n);
      searched += BigInt(n);
      opts.onProgress?.(searched, total);
    }
  }
  return { hits, truncated: false, searchedBytes: searched, faultedBytes: faulted };
}
