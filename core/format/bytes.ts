// Fixed-width integer access in a chosen byte order: the crashed machine's, not the host's.

export class ByteView {
  private readonly dv: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly littleEndian: boolean,
  ) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get length(): number {
    return this.bytes.length;
  }
  u8(off: number): number {
    return this.dv.getUint8(off);
  }
  u16(off: number): number {
    return this.dv.getUint16(off, this.littleEndian);
  }
  u32(off: number): number {
    return this.dv.getUint32(off, this.littleEndian);
  }
  i32(off: number): number {
    return this.dv.getInt32(off, this.littleEndian);
  }
  u64(off: number): bigint {
    return this.dv.getBigUint64(off, this.littleEndian);
  }
  i64(off: number): bigint {
    return this.dv.getBigInt64(off, this.littleEndian);
  }
  /** An unsigned word of `size` bytes (4 or 8) as bigint. */
  word(off: number, size: 4 | 8): bigint {
    return size === 8 ? this.u64(off) : BigInt(this.u32(off));
  }
  setU16(off: number, v: number): void {
    this.dv.setUint16(off, v, this.littleEndian);
  }
  setU32(off: number, v: number): void {
    this.dv.setUint32(off, v >>> 0, this.littleEndian);
  }
  setU64(off: number, v: bigint): void {
    this.dv.setBigUint64(off, BigInt.asUintN(64, v), this.littleEndian);
  }
  setWord(off: number, v: bigint, size: 4 | 8): void {
    if (size === 8) this.setU64(off, v);
    else this.setU32(off, Number(BigInt.asUintN(32, v)));
  }
}

/** "0x" + lowercase hex, the form every JSON address uses. */
export function hex(v: bigint | number): string {
  return '0x' + v.toString(16);
}

/** Lowercase hex of bytes, no separators. */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

export function fromHex(s: string): Uint8Array {
  const out = new Uint8Array(s.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(i * 2, 2), 16);
  return out;
}

export function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
