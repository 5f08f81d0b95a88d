// What Find looks for, as bytes and a mask: hex with ?? wildcards, text (ASCII or UTF-16LE), or a
// pointer-sized value in the dump's byte order. A bad pattern names what and where is wrong.

export type PatternKind = 'hex' | 'ascii' | 'utf16le' | 'pointer';

export interface BytePattern {
  bytes: Uint8Array;
  /** 0xff where the byte must match, 0 for a wildcard. */
  mask: Uint8Array;
}

export type PatternResult = { ok: true; pattern: BytePattern } | { ok: false; error: string };

/** Longest pattern accepted: a search keeps pattern-length bytes of overlap between chunks. */
export const MAX_PATTERN_BYTES = 4096;

export function parsePattern(kind: PatternKind, text: string, target: { pointerSize: 4 | 8; littleEndian: boolean }): PatternResult {
  const r = build(kind, text, target);
  if (!r.ok) return r;
  const n = r.pattern.bytes.length;
  if (n === 0) return { ok: false, error: 'the pattern is empty' };
  if (n > MAX_PATTERN_BYTES) return { ok: false, error: `the pattern is ${n} bytes; at most ${MAX_PATTERN_BYTES}` };
  if (r.pattern.mask.every((m) => m === 0)) return { ok: false, error: 'the pattern is all wildcards' };
  return r;
}

function build(kind: PatternKind, text: string, target: { pointerSize: 4 | 8; littleEndian: boolean }): PatternResult {
  switch (kind) {
    case 'hex':
      return hexPattern(text);
    case 'ascii': {
      const bytes = new Uint8Array(text.length);
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c > 0x7f) return { ok: false, error: `character ${i + 1} ('${text[i]}') is not ASCII` };
        bytes[i] = c;
      }
      return exact(bytes);
    }
    case 'utf16le': {
      const bytes = new Uint8Array(text.length * 2);
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        bytes[2 * i] = c & 0xff;
        bytes[2 * i + 1] = c >> 8;
      }
      return exact(bytes);
    }
    case 'pointer': {
      const t = text.trim().replace(/_/g, '');
      if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(t)) return { ok: false, error: `'${text}' is not a number (0x… or decimal)` };
      const v = BigInt(t);
      const bits = BigInt(target.pointerSize * 8);
      if (v >= 1n << bits) return { ok: false, error: `0x${v.toString(16)} does not fit in a ${target.pointerSize}-byte pointer` };
      const bytes = new Uint8Array(target.pointerSize);
      for (let i = 0; i < target.pointerSize; i++) {
        const b = Number((v >> BigInt(8 * i)) & 0xffn);
        bytes[target.littleEndian ? i : target.pointerSize - 1 - i] = b;
      }
      return exact(bytes);
    }
  }
}

function exact(bytes: Uint8Array): PatternResult {
  return { ok: true, pattern: { bytes, mask: new Uint8Array(bytes.length).fill(0xff) } };
}

/** "de ad ?? ef", "dead??ef", "DE-AD": pairs of hex digits, ?? (or ?) a wildcard byte. */
function hexPattern(text: string): PatternResult {
  const bytes: number[] = [];
  const mask: number[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/[\s,:-]/.test(c)) {
      i++;
      continue;
    }
    if (c === '?') {
      i += text[i + 1] === '?' ? 2 : 1;
      bytes.push(0);
      mask.push(0);
      continue;
    }
    const pair = text.slice(i, i + 2);
    if (!/^[0-9a-f]{2}$/i.test(pair)) {
      return { ok: false, error: `hex pattern: '${pair || c}' at character ${i + 1} is not a byte (two hex digits or ??)` };
    }
    bytes.push(parseInt(pair, 16));
    mask.push(0xff);
    i += 2;
  }
  return { ok: true, pattern: { bytes: Uint8Array.from(bytes), mask: Uint8Array.from(mask) } };
}

/**
 * The byte to scan for with indexOf: memory is full of 0x00 and 0xff, so a pattern byte other than
 * those makes candidates rare (a pointer's high bytes are often 0xff, its low ones 0x00).
 */
function anchorOf(p: BytePattern): number {
  let fallback = -1;
  for (let k = 0; k < p.bytes.length; k++) {
    if (p.mask[k] === 0) continue;
    if (fallback < 0) fallback = k;
    if (p.bytes[k] !== 0x00 && p.bytes[k] !== 0xff) return k;
  }
  return fallback;
}

/** Offsets in data where the pattern matches entirely inside data. */
export function matchesIn(data: Uint8Array, p: BytePattern): number[] {
  const n = p.bytes.length;
  const out: number[] = [];
  const anchor = anchorOf(p);
  const first = p.bytes[anchor]!;
  let from = anchor;
  const last = data.length - n + anchor;
  while (from <= last) {
    const at = data.indexOf(first, from);
    if (at < 0 || at > last) break;
    const start = at - anchor;
    let ok = true;
    for (let k = 0; k < n; k++) {
      if (p.mask[k] !== 0 && data[start + k] !== p.bytes[k]) {
        ok = false;
        break;
      }
    }
    if (ok) out.push(start);
    from = at + 1;
  }
  return out;
}
