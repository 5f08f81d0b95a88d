// The Memory view's pure logic (issue 10): the inspector against known bytes in both byte orders,
// copy formats, and the scrollbar's arithmetic over 2^64 (no pixel height can hold it).
import { describe, expect, it } from 'vitest';
import { cString, inspect, timeText } from '../../renderer/src/memory/inspect.ts';
import { asCArray, asHex, asText } from '../../renderer/src/memory/copy-formats.ts';
import { offsetToAddress, regionBand, thumbOffset } from '../../renderer/src/memory/scroll-math.ts';

const B = Uint8Array.from([0x01, 0x01, 0xca, 0x8f, 0x00, 0x00, 0xf0, 0xbf, 0x41, 0x42, 0x00]);
const rows = (b: Uint8Array, le = true, p: 4 | 8 = 8) => Object.fromEntries(inspect(b, { littleEndian: le, pointerSize: p }).map((r) => [r.label, r.value]));

describe('inspector', () => {
  it('every integer type in both byte orders', () => {
    const r = rows(B);
    expect(r['u8']).toBe('1 (0x01)');
    expect(r['i8']).toBe('1');
    expect(r['u16 le']).toBe('257 (0x0101)');
    expect(r['u16 be']).toBe('257 (0x0101)');
    expect(r['u32 le']).toBe(`${0x8fca0101} (0x8fca0101)`);
    expect(r['u32 be']).toBe(`${0x0101ca8f} (0x0101ca8f)`);
    expect(r['i32 le']).toBe(String(0x8fca0101 - 2 ** 32));
    expect(r['i32 be']).toBe(String(0x0101ca8f));
    expect(r['u64 le']).toBe(`${0xbff000008fca0101n} (0xbff000008fca0101)`);
    expect(r['u64 be']).toBe(`${0x0101ca8f0000f0bfn} (0x0101ca8f0000f0bf)`);
    expect(r['i64 le']).toBe(String(BigInt.asIntN(64, 0xbff000008fca0101n)));
  });

  it('float and double in both byte orders', () => {
    const one = Uint8Array.from([0, 0, 0x80, 0x3f, 0, 0, 0, 0]);
    expect(rows(one)['float le']).toBe('1');
    expect(rows(Uint8Array.from([0x3f, 0x80, 0, 0, 0, 0, 0, 0]))['float be']).toBe('1');
    expect(rows(Uint8Array.from([0, 0, 0, 0, 0, 0, 0xf0, 0x3f]))['double le']).toBe('1');
    expect(rows(Uint8Array.from([0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18]))['double be']).toBe(String(Math.PI));
  });

  it('time_t as UTC, pointer with its value, NUL-terminated string', () => {
    const t = new Uint8Array(8);
    new DataView(t.buffer).setBigInt64(0, 1794992616n, true);
    const r = inspect(t, { littleEndian: true, pointerSize: 8 });
    expect(r.find((x) => x.label === 'time_t')!.value).toBe('2026-11-18 09:03:36 UTC');
    expect(r.find((x) => x.label === 'pointer')).toMatchObject({ value: `0x${(1794992616).toString(16).padStart(16, '0')}`, pointer: 1794992616n });
    expect(rows(B.subarray(8))['string']).toBe('"AB"');
    expect(cString(Uint8Array.from([0x61, 0x0a, 0x01, 0]))).toBe('"a\\n\\x01"');
    expect(timeText(1n << 62n)).toBeNull();
  });

  it('a 32-bit pointer on ILP32; nothing decoded from bytes that are not there', () => {
    const r = inspect(Uint8Array.from([0x10, 0x00, 0x60, 0xc0]), { littleEndian: true, pointerSize: 4 });
    expect(r.find((x) => x.label === 'pointer')).toMatchObject({ value: '0xc0600010', pointer: 0xc0600010n });
    expect(r.find((x) => x.label === 'u64 le')!.value).toBeNull();
    expect(inspect(new Uint8Array(0), { littleEndian: true, pointerSize: 8 }).every((x) => x.value === null)).toBe(true);
  });
});

describe('copy formats', () => {
  const b = Uint8Array.from([...Array(18).keys()].map((i) => 0x40 + i));
  it('hex, 16 bytes a line', () => {
    expect(asHex(b)).toBe('40 41 42 43 44 45 46 47 48 49 4a 4b 4c 4d 4e 4f\n50 51');
  });
  it('a C array with its length', () => {
    expect(asCArray(b.subarray(0, 13), 'sel')).toBe('unsigned char sel[13] = {\n  0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b,\n  0x4c\n};');
  });
  it('text with non-printables as dots', () => {
    expect(asText(Uint8Array.from([0x41, 0x00, 0x42, 0x0a, 0xff]))).toBe('A.B\n.');
  });
});

describe('scrollbar over 2^64', () => {
  const L = 1n << 64n;
  it('thumb position and its inverse agree to a row, at both ends and in the middle', () => {
    expect(thumbOffset(0n, L, 600, 20)).toBe(0);
    expect(thumbOffset(L - 16n * 24n, L, 600, 20)).toBeCloseTo(580, 2);
    expect(offsetToAddress(0, L, 600, 20, 16n, 384n)).toBe(0n);
    expect(offsetToAddress(580, L, 600, 20, 16n, 384n)).toBe(L - 384n);
    const mid = offsetToAddress(290, L, 600, 20, 16n, 384n);
    expect(mid % 16n).toBe(0n);
    expect(Number(mid >> 40n) / 2 ** 24).toBeCloseTo(0.5, 5);
    expect(thumbOffset(mid, L, 600, 20)).toBeCloseTo(290, 1);
  });
  it('a 4 KiB region in 2^64 is still 2 px tall', () => {
    expect(regionBand(0xffffffff80200000n, 0xffffffff80201000n, L, 600)).toEqual({ top: expect.closeTo(600 * (0xffffffff80200000 / 2 ** 64), 2), height: 2 });
  });
});
