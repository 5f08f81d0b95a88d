// Find (issue 10): patterns (hex with wildcards, ASCII, UTF-16LE, pointers in either byte order)
// and the search over regions through a strict read: matches across chunk and page boundaries are
// found, matches across a hole or through faulted bytes are not, hits are capped, cancel works.
import { describe, expect, it } from 'vitest';
import { parsePattern } from '../../core/find/pattern.ts';
import { findInRegions, FindCancelled } from '../../core/find/search.ts';
import type { ReadFault, StrictRead } from '../../core/layers/types.ts';

const LE = { pointerSize: 8 as const, littleEndian: true };

function pattern(kind: Parameters<typeof parsePattern>[0], text: string, target: { pointerSize: 4 | 8; littleEndian: boolean } = LE) {
  const r = parsePattern(kind, text, target);
  if (!r.ok) throw new Error(r.error);
  return r.pattern;
}

describe('patterns', () => {
  it('hex with wildcards, separators and case', () => {
    expect(pattern('hex', 'DE ad ?? ef')).toEqual({ bytes: Uint8Array.from([0xde, 0xad, 0, 0xef]), mask: Uint8Array.from([255, 255, 0, 255]) });
    expect(pattern('hex', 'de-ad:be,ef').bytes).toEqual(Uint8Array.from([0xde, 0xad, 0xbe, 0xef]));
  });
  it('text as ASCII and UTF-16LE', () => {
    expect(pattern('ascii', 'panic').bytes).toEqual(new TextEncoder().encode('panic'));
    expect(pattern('utf16le', 'ok').bytes).toEqual(Uint8Array.from([0x6f, 0, 0x6b, 0]));
  });
  it('a pointer in the dump\'s byte order and size', () => {
    expect(pattern('pointer', '0xffffffff80600010').bytes).toEqual(Uint8Array.from([0x10, 0, 0x60, 0x80, 0xff, 0xff, 0xff, 0xff]));
    expect(pattern('pointer', '0xc0600010', { pointerSize: 4, littleEndian: false }).bytes).toEqual(Uint8Array.from([0xc0, 0x60, 0, 0x10]));
  });
  it.each([
    ['hex', 'de a', /'a' at character 4 is not a byte/],
    ['hex', 'zz', /'zz' at character 1/],
    ['hex', '?? ??', /all wildcards/],
    ['hex', '', /empty/],
    ['ascii', 'héllo', /character 2 .* is not ASCII/],
    ['pointer', '0x1ffffffff', /does not fit in a 4-byte pointer/],
    ['pointer', 'kernel', /not a number/],
  ] as const)('%s %j is refused saying where', (kind, text, why) => {
    const r = parsePattern(kind, text, { pointerSize: kind === 'pointer' && text.startsWith('0x1') ? 4 : 8, littleEndian: true });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(why);
  });
});

/** A flat memory over [base, base + bytes.length) with faulted ranges (relative offsets). */
function memory(base: bigint, bytes: Uint8Array, faults: { offset: number; length: number }[] = []) {
  const reads: [bigint, number][] = [];
  const read = async (address: bigint, length: number): Promise<StrictRead> => {
    reads.push([address, length]);
    const off = Number(address - base);
    const data = bytes.slice(off, off + length);
    const out: ReadFault[] = [];
    for (const f of faults) {
      const s = Math.max(f.offset, off);
      const e = Math.min(f.offset + f.length, off + length);
      if (s < e) {
        data.fill(0, s - off, e - off);
        out.push({ offset: s - off, length: e - s, kind: 'outside-segments', reason: 'hole', address: base + BigInt(s) });
      }
    }
    return { data, faults: out };
  };
  return { read, reads };
}

describe('findInRegions', () => {
  const base = 0xffffffff80000000n;
  const bytes = new Uint8Array(64 * 1024);
  const put = (off: number, s: string) => bytes.set(new TextEncoder().encode(s), off);
  put(100, 'needle');
  put(4096 - 3, 'needle'); // across a page and (with 4 KiB chunks) a chunk boundary
  put(20000, 'needle');
  put(30000, 'needle'); // partly faulted below
  put(40000, 'nee'); put(40003, 'dle'); // spans regions split at 40003 below

  it('finds matches across chunk boundaries, not through faults or across a gap between regions', async () => {
    const m = memory(base, bytes, [{ offset: 30002, length: 10 }]);
    const regions = [{ start: base, end: base + 40003n }, { start: base + 40003n, end: base + 65536n }];
    const r = await findInRegions(regions, m.read, pattern('ascii', 'needle'), { chunkBytes: 4096 });
    expect(r.hits).toEqual([base + 100n, base + 4093n, base + 20000n]);
    expect(r.truncated).toBe(false);
    expect(r.searchedBytes).toBe(65536n);
    expect(r.faultedBytes).toBe(10n);
    expect(Math.max(...m.reads.map(([, n]) => n))).toBe(4096); // constant memory: chunk-sized reads
  });

  it('wildcards match any byte; hits are capped and said so', async () => {
    const m = memory(base, bytes);
    const all = await findInRegions([{ start: base, end: base + 65536n }], m.read, pattern('hex', '6e 65 ?? 64'));
    expect(all.hits).toEqual([base + 100n, base + 4093n, base + 20000n, base + 30000n, base + 40000n]);
    const capped = await findInRegions([{ start: base, end: base + 65536n }], m.read, pattern('hex', '6e 65 ?? 64'), { maxHits: 2 });
    expect(capped).toMatchObject({ hits: [base + 100n, base + 4093n], truncated: true });
  });

  it('holes cost nothing: a pointer pattern (zero and 0xff bytes) over 1 GiB of faulted memory', async () => {
    const hole = async (address: bigint, length: number): Promise<StrictRead> => ({
      data: new Uint8Array(length), faults: [{ offset: 0, length, kind: 'outside-segments', reason: 'hole', address }],
    });
    const t = performance.now();
    const r = await findInRegions([{ start: base, end: base + (1n << 30n) }], hole, pattern('pointer', '0xffff800000000000'));
    expect(r).toMatchObject({ hits: [], faultedBytes: 1n << 30n });
    expect(performance.now() - t).toBeLessThan(5000);
  });

  it('cancel stops the search', async () => {
    const m = memory(base, bytes);
    const signal = { aborted: false };
    const run = findInRegions([{ start: base, end: base + 65536n }], m.read, pattern('ascii', 'zz'), {
      chunkBytes: 4096, signal, onProgress: (done) => { if (done >= 8192n) signal.aborted = true; },
    });
    await expect(run).rejects.toBeInstanceOf(FindCancelled);
    expect(m.reads.length).toBe(2);
  });
});
