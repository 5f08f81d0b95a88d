// Addresses and sizes as people read them. Addresses are bigints in the renderer, "0x…" on the wire.

import { fromHexAddress, toHexAddress } from '../../../contract/hex.ts';

export const MAX_U64 = (1n << 64n) - 1n;

export function hexAddr(v: bigint, digits = 16): string {
  return v.toString(16).padStart(digits, '0');
}

/** The wire form of an address: the contract's one bigint↔hex helper. */
export const toWire = (v: bigint): string => toHexAddress(v);
export const fromWire = (s: string): bigint => fromHexAddress(s);

/** "0x1f", "1f" → bigint; null when not hex. */
export function parseHex(text: string): bigint | null {
  const t = text.trim().toLowerCase().replace(/_/g, '');
  const m = /^(?:0x)?([0-9a-f]{1,16})$/.exec(t);
  return m ? BigInt(`0x${m[1]}`) : null;
}

/** A byte offset typed by a person: decimal, or 0x-hex. */
export function parseOffset(text: string): number | null {
  const t = text.trim().toLowerCase();
  if (/^0x[0-9a-f]+$/.test(t) || /^\d+$/.test(t)) {
    const v = BigInt(t);
    return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : null;
  }
  return null;
}

export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

export const hexNum = (n: number): string => `0x${n.toString(16)}`;
