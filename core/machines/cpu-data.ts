// Reading a CPU header the way C reads a struct: fixed offsets in the machine's byte order. The
// interface promises open() never throws, so bytes past the end of the CPU data read as zero
// (C would read whatever follows the allocation; zero is the deterministic stand-in).

import { ByteView } from '../format/bytes.ts';
import { PHYS_RAM_SEG_SIZE, type PhysRamSeg } from '../format/kcore.ts';

/** An unsigned field of `size` bytes at off; bytes beyond cpuData are zero. */
export function readCpuWord(cpuData: Uint8Array, off: number, size: 4 | 8, littleEndian: boolean): bigint {
  const field = new Uint8Array(size);
  if (off < cpuData.length) field.set(cpuData.subarray(off, Math.min(off + size, cpuData.length)));
  return new ByteView(field, littleEndian).word(0, size);
}

/** The phys_ram_seg_t at index i of an array starting at off (zero-filled past the end). */
export function readSegment(cpuData: Uint8Array, off: number, i: number, littleEndian: boolean): PhysRamSeg {
  const at = off + i * PHYS_RAM_SEG_SIZE;
  return { start: readCpuWord(cpuData, at, 8, littleEndian), size: readCpuWord(cpuData, at + 8, 8, littleEndian) };
}

/** Whether any byte of entry i lies inside cpuData (entries wholly past the end are not read). */
export function segmentStartsInside(cpuData: Uint8Array, off: number, i: number): boolean {
  return off + i * PHYS_RAM_SEG_SIZE < cpuData.length;
}

/** A u64 result of C unsigned arithmetic. */
export function u64(v: bigint): bigint {
  return BigInt.asUintN(64, v);
}

/** A u32 result of C unsigned arithmetic (i386 vaddr_t / paddr_t sums). */
export function u32(v: bigint): bigint {
  return BigInt.asUintN(32, v);
}
