// The one bigint <-> hex helper of main and the renderer (zod-free, so the renderer bundle stays
// small): addresses travel as "0x…" strings because a 64-bit address does not fit a JS number.

import { hex } from '../core/format/bytes.ts';

/** 0x-prefixed lower-case hex of a bigint or number: the wire format of every address. */
export function toHexAddress(v: bigint | number): string {
  return hex(v);
}

/** The bigint of a "0x…" wire address (the inverse of toHexAddress). */
export function fromHexAddress(s: string): bigint {
  return BigInt(s);
}
