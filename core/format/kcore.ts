// kcore headers (sys/sys/kcore.h, sys/sys/core.h): spec sections 1, 2.1, 2.2, 2.4.
// c_midmag is always big-endian; every other field is in the crashed machine's byte order.

import { ByteView } from './bytes.ts';

export const KCORE_MAGIC = 0x8fca;
export const KCORESEG_MAGIC = 0x8fac;
export const CORE_CPU = 1;
export const CORE_DATA = 2;
export const CORE_STACK = 4;
/** The kernel's dumpmag value (spec 2.1). */
export const DUMPMAG = 0x8fca0101;

export const KCORE_HDR_SIZE = 12;
export const KCORE_SEG_SIZE = 8;
export const PHYS_RAM_SEG_SIZE = 16;

export interface MidMag {
  flag: number;
  mid: number;
  magic: number;
}

export function packMidMag({ flag, mid, magic }: MidMag): number {
  return (((flag & 0x3f) << 26) | ((mid & 0x3ff) << 16) | (magic & 0xffff)) >>> 0;
}

export function unpackMidMag(value: number): MidMag {
  return { flag: (value >>> 26) & 0x3f, mid: (value >>> 16) & 0x3ff, magic: value & 0xffff };
}

/** Read c_midmag (big-endian on every architecture) at off. */
export function readMidMag(bytes: Uint8Array, off = 0): MidMag {
  const v = new DataView(bytes.buffer, bytes.byteOffset + off, 4).getUint32(0, false);
  return unpackMidMag(v);
}

export function writeMidMag(bytes: Uint8Array, off: number, mm: MidMag): void {
  new DataView(bytes.buffer, bytes.byteOffset + off, 4).setUint32(0, packMidMag(mm), false);
}

/** ALIGN(x) with the machine's ALIGNBYTES (spec 2.5). */
export function alignUp(x: number, alignBytes: number): number {
  return Math.ceil(x / (alignBytes + 1)) * (alignBytes + 1);
}

export interface KcoreHdr {
  midmag: MidMag;
  hdrSize: number; // c_hdrsize, u16
  segHdrSize: number; // c_seghdrsize, u16
  nseg: number; // c_nseg, u32
}

export function encodeKcoreHdr(h: KcoreHdr, littleEndian: boolean): Uint8Array {
  const out = new Uint8Array(KCORE_HDR_SIZE);
  writeMidMag(out, 0, h.midmag);
  const v = new ByteView(out, littleEndian);
  v.setU16(4, h.hdrSize);
  v.setU16(6, h.segHdrSize);
  v.setU32(8, h.nseg);
  return out;
}

export function decodeKcoreHdr(bytes: Uint8Array, littleEndian: boolean): KcoreHdr {
  const v = new ByteView(bytes, littleEndian);
  return { midmag: readMidMag(bytes), hdrSize: v.u16(4), segHdrSize: v.u16(6), nseg: v.u32(8) };
}

export interface KcoreSeg {
  midmag: MidMag;
  size: number; // c_size, u32
}

export function encodeKcoreSeg(s: KcoreSeg, littleEndian: boolean): Uint8Array {
  const out = new Uint8Array(KCORE_SEG_SIZE);
  writeMidMag(out, 0, s.midmag);
  new ByteView(out, littleEndian).setU32(4, s.size);
  return out;
}

export function decodeKcoreSeg(bytes: Uint8Array, littleEndian: boolean): KcoreSeg {
  return { midmag: readMidMag(bytes), size: new ByteView(bytes, littleEndian).u32(4) };
}

/** One phys_ram_seg_t: a physical range and, in the dump, where its bytes are. */
export interface PhysRamSeg {
  start: bigint;
  size: bigint;
}

export function decodePhysRamSegs(bytes: Uint8Array, off: number, count: number, littleEndian: boolean): PhysRamSeg[] {
  const v = new ByteView(bytes, littleEndian);
  const out: PhysRamSeg[] = [];
  for (let i = 0; i < count && off + (i + 1) * PHYS_RAM_SEG_SIZE <= bytes.length; i++) {
    const o = off + i * PHYS_RAM_SEG_SIZE;
    out.push({ start: v.u64(o), size: v.u64(o + 8) });
  }
  return out;
}
