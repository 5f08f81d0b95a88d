// Decoding a page-table entry's permission bits for the walk listing (display only: libkvm's
// walk looks at nothing but the valid bit, PS and the frame).

import type { EntryFlags } from '../layers/types.ts';

const bit = (entry: bigint, n: number): boolean => ((entry >> BigInt(n)) & 1n) === 1n;

/**
 * x86 (Intel SDM vol. 3 §4.5): P bit 0, R/W bit 1, U/S bit 2, PS bit 7 where the level has one,
 * XD bit 63 where entries are 8 bytes (amd64, PAE).
 */
export function x86Flags(entry: bigint, opts: { psLevel: boolean; nx: boolean }): EntryFlags {
  return {
    present: bit(entry, 0),
    writable: bit(entry, 1),
    user: bit(entry, 2),
    largePage: opts.psLevel && bit(entry, 7),
    noExecute: opts.nx && bit(entry, 63),
  };
}

/**
 * aarch64 VMSAv8-64 descriptors: valid bit 0; bit 1 clear = block (libkvm takes it at any level).
 * Block/page: AP[2] bit 7 = read-only, AP[1] bit 6 = EL0 access, PXN bit 53. Table: APTable[1]
 * bit 62 = no write, APTable[0] bit 61 = no EL0 access, PXNTable bit 59.
 */
export function aarch64Flags(entry: bigint, lastLevel: boolean): EntryFlags {
  const isTable = bit(entry, 1) && !lastLevel;
  if (isTable) {
    return { present: bit(entry, 0), writable: !bit(entry, 62), user: !bit(entry, 61), largePage: false, noExecute: bit(entry, 59) };
  }
  return { present: bit(entry, 0), writable: !bit(entry, 7), user: bit(entry, 6), largePage: !bit(entry, 1), noExecute: bit(entry, 53) };
}
