// A gzip checkpoint index as bytes, so a compressed core indexed once need not be decompressed
// again by the next command. The file carries the fingerprint of the compressed data it describes
// (the caller's choice, e.g. its SHA-256) and a CRC-32 of itself; anything that does not match
// decodes to null and the index is rebuilt, never trusted.

import { ByteView } from '../format/bytes.ts';
import { utf8Decode, utf8Encode } from '../format/utf8.ts';
import { crc32, type GzipCheckpoint } from './gzip-format.ts';
import type { GzipIndex } from './gzip-index.ts';

const MAGIC = utf8Encode('KVMGZIX1');

/** Sequential little-endian fields over a buffer (writing or reading). */
class Cursor {
  private readonly v: ByteView;
  at = 0;
  constructor(readonly bytes: Uint8Array) {
    this.v = new ByteView(bytes, true);
  }
  putU64(n: number): void {
    this.v.setU64(this.at, BigInt(n));
    this.at += 8;
  }
  putU32(n: number): void {
    this.v.setU32(this.at, n);
    this.at += 4;
  }
  putBytes(b: Uint8Array): void {
    this.bytes.set(b, this.at);
    this.at += b.length;
  }
  u64(): number {
    const n = Number(this.v.u64(this.at));
    this.at += 8;
    return n;
  }
  u32(): number {
    const n = this.v.u32(this.at);
    this.at += 4;
    return n;
  }
  take(length: number): Uint8Array {
    if (this.at + length > this.bytes.length) throw new RangeError('past the end');
    const b = this.bytes.slice(this.at, this.at + length);
    this.at += length;
    return b;
  }
}

export function encodeGzipIndex(index: GzipIndex, fingerprint: Uint8Array): Uint8Array {
  const warnings = index.warnings.map(utf8Encode);
  const size = 8 + 8 + 8 + 4 * 5 + fingerprint.length
    + index.checkpoints.reduce((n, c) => n + 8 + 8 + 4 + 4 + c.window.length, 0)
    + warnings.reduce((n, w) => n + 4 + w.length, 0) + 4;
  const w = new Cursor(new Uint8Array(size));
  w.putBytes(MAGIC);
  w.putU64(index.compressedSize);
  w.putU64(index.size);
  for (const n of [index.members, index.spanBytes, index.checkpoints.length, warnings.length, fingerprint.length]) w.putU32(n);
  w.putBytes(fingerprint);
  for (const c of index.checkpoints) {
    w.putU64(c.out);
    w.putU64(c.inBit);
    w.putU32(c.memberStart ? 1 : 0);
    w.putU32(c.window.length);
    w.putBytes(c.window);
  }
  for (const text of warnings) {
    w.putU32(text.length);
    w.putBytes(text);
  }
  w.putU32(crc32(0, w.bytes.subarray(0, w.at)));
  return w.bytes;
}

/** The index, or null when the bytes are damaged or describe other data than `fingerprint`. */
export function decodeGzipIndex(bytes: Uint8Array, fingerprint: Uint8Array, compressedSize: number): GzipIndex | null {
  try {
    return decodeChecked(bytes, fingerprint, compressedSize);
  } catch {
    return null; // a short or inconsistent file reads past its end: not an index
  }
}

function decodeChecked(bytes: Uint8Array, fingerprint: Uint8Array, compressedSize: number): GzipIndex | null {
  if (bytes.length < 12 || !sameBytes(bytes.subarray(0, 8), MAGIC)) return null;
  const body = bytes.subarray(0, bytes.length - 4);
  if (new ByteView(bytes, true).u32(bytes.length - 4) !== crc32(0, body)) return null;
  const r = new Cursor(body);
  r.take(8);
  const stored = r.u64();
  const size = r.u64();
  const [members, spanBytes, nCheckpoints, nWarnings, fpLength] = [r.u32(), r.u32(), r.u32(), r.u32(), r.u32()];
  if (stored !== compressedSize || !sameBytes(r.take(fpLength), fingerprint)) return null;
  const checkpoints: GzipCheckpoint[] = [];
  for (let i = 0; i < nCheckpoints; i++) {
    const out = r.u64();
    const inBit = r.u64();
    const memberStart = r.u32() === 1;
    checkpoints.push({ out, inBit, memberStart, window: r.take(r.u32()) });
  }
  const warnings: string[] = [];
  for (let i = 0; i < nWarnings; i++) warnings.push(utf8Decode(r.take(r.u32())));
  if (r.at !== body.length || checkpoints[0]?.out !== 0) return null;
  return { compressedSize, size, members, spanBytes, checkpoints, warnings };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
