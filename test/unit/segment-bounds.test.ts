// Issue 9 item 2: a corrupt segment count cannot make memory or output explode, and pa2off still
// answers what NetBSD's linear search answers, for entries past the decoded head too.
import { describe, expect, it } from 'vitest';
import { amd64 } from '../../core/machines/amd64.ts';
import { aarch64 } from '../../core/machines/aarch64.ts';
import { MAX_DECODED_SEGMENTS } from '../../core/machines/segment-table.ts';

/** CPU data with `n` segments of 4 KiB at PA i * 8 KiB, after a header of `headerBytes`. */
function cpuData(headerBytes: number, n: number, write: (dv: DataView) => void): Uint8Array {
  const bytes = new Uint8Array(headerBytes + n * 16);
  const dv = new DataView(bytes.buffer);
  write(dv);
  for (let i = 0; i < n; i++) {
    dv.setBigUint64(headerBytes + i * 16, BigInt(i) * 0x2000n, true);
    dv.setBigUint64(headerBytes + i * 16 + 8, 0x1000n, true);
  }
  return bytes;
}

describe('segment tables from hostile headers', () => {
  const n = 200_000;

  it('amd64: nmemsegs 2^64-1 decodes a bounded head, counts what the data holds, pa2off stays exact', () => {
    const st = amd64.open(cpuData(16, n, (dv) => dv.setBigUint64(8, 0xffffffffffffffffn, true)));
    expect(st.segments).toHaveLength(MAX_DECODED_SEGMENTS);
    expect(st.segmentCount).toBe(n);
    // PA in segment 150000 (far past the decoded head): offset = 150000 * 4 KiB + 0x10.
    expect(st.pa2off(150_000n * 0x2000n + 0x10n)).toBe(150_000 * 0x1000 + 0x10);
    // A hole between segments: the end of the memory data, as NetBSD answers.
    expect(st.pa2off(0x1800n)).toBe(n * 0x1000);
  });

  it('aarch64: an unterminated table is bounded the same way', () => {
    const st = aarch64.open(cpuData(24, n, () => undefined)); // kh_ramsegs at 24
    expect(st.segments.length).toBe(MAX_DECODED_SEGMENTS);
    expect(st.segmentCount).toBe(n);
    expect(st.pa2off(BigInt(n - 1) * 0x2000n + 4n)).toBe((n - 1) * 0x1000 + 4);
  });
});
