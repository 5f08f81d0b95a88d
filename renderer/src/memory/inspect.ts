// The data inspector: the bytes at the cursor as every type an analyst reads a kernel with.
// Pure: bytes in, rows out, so every type and both byte orders are tested against known bytes.

export interface InspectRow {
  /** 'u32 le', 'double be', 'time_t', 'pointer', 'string'… */
  label: string;
  /** The decoded value, or null when too few readable bytes are at the cursor. */
  value: string | null;
  /** For 'pointer': the address, to symbolize and follow. */
  pointer?: bigint;
}

const INT_SIZES = [1, 2, 4, 8] as const;

function readUint(b: Uint8Array, n: number, le: boolean): bigint {
  let v = 0n;
  for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(b[le ? n - 1 - i : i]!);
  return v;
}

function signed(v: bigint, n: number): bigint {
  return BigInt.asIntN(n * 8, v);
}

function floatOf(b: Uint8Array, n: 4 | 8, le: boolean): string {
  const dv = new DataView(b.buffer, b.byteOffset, n);
  const v = n === 4 ? dv.getFloat32(0, le) : dv.getFloat64(0, le);
  return Number.isFinite(v) ? String(v) : String(v); // NaN / Infinity stay visible as such
}

/** A time_t (seconds since 1970, the machine's long) as UTC; null when out of Date's range. */
export function timeText(seconds: bigint): string | null {
  const ms = seconds * 1000n;
  if (ms > 8_640_000_000_000_000n || ms < -8_640_000_000_000_000n) return null;
  return new Date(Number(ms)).toISOString().replace('T', ' ').replace(/\.000Z$/, ' UTC');
}

/** Printable ASCII up to the first NUL (at most max characters), escaping the rest. */
export function cString(b: Uint8Array, max = 128): string | null {
  const end = b.indexOf(0);
  if (end < 0 && b.length < max) return null; // no terminator among the readable bytes
  const n = Math.min(end < 0 ? b.length : end, max);
  let s = '';
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : c === 10 ? '\\n' : c === 9 ? '\\t' : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return `"${s}"${end < 0 || end > max ? '…' : ''}`;
}

/**
 * Rows for the readable bytes at the cursor (`bytes` holds only readable ones: it stops at the first
 * unreadable byte, so nothing here is ever decoded from a hole).
 */
export function inspect(bytes: Uint8Array, opts: { littleEndian: boolean; pointerSize: 4 | 8 }): InspectRow[] {
  const rows: InspectRow[] = [];
  const orders: [string, boolean][] = [['le', true], ['be', false]];
  for (const n of INT_SIZES) {
    for (const [name, le] of n === 1 ? [['', true] as [string, boolean]] : orders) {
      const ok = bytes.length >= n;
      const u = ok ? readUint(bytes, n, le) : 0n;
      const suffix = name ? ` ${name}` : '';
      rows.push({ label: `u${n * 8}${suffix}`, value: ok ? `${u} (0x${u.toString(16).padStart(n * 2, '0')})` : null });
      rows.push({ label: `i${n * 8}${suffix}`, value: ok ? String(signed(u, n)) : null });
    }
  }
  for (const [name, le] of orders) {
    rows.push({ label: `float ${name}`, value: bytes.length >= 4 ? floatOf(bytes, 4, le) : null });
    rows.push({ label: `double ${name}`, value: bytes.length >= 8 ? floatOf(bytes, 8, le) : null });
  }
  const p = opts.pointerSize;
  const word = bytes.length >= p ? readUint(bytes, p, opts.littleEndian) : null;
  rows.push({ label: 'time_t', value: word === null ? null : timeText(signed(word, p)) ?? 'out of range' });
  rows.push(word === null ? { label: 'pointer', value: null } : { label: 'pointer', value: `0x${word.toString(16).padStart(p * 2, '0')}`, pointer: word });
  rows.push({ label: 'string', value: cString(bytes) });
  rows.push({ label: 'binary', value: bytes.length >= 1 ? bytes[0]!.toString(2).padStart(8, '0') : null });
  return rows;
}
