// UTF-8 encoding and lenient decoding for core/, which is compiled without DOM or Node types and
// so has no TextEncoder/TextDecoder: symbol names (elf.ts, nlist.ts) and kernel strings (triage).

/** UTF-8 bytes of a string (core/ has no TextEncoder in its lib). */
export function utf8Encode(s: string): Uint8Array {
  const out: number[] = [];
  for (const ch of s) {
    let cp = ch.codePointAt(0)!;
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd; // lone surrogate
    if (cp < 0x80) out.push(cp);
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
    else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
    else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  }
  return Uint8Array.from(out);
}

/** Decode UTF-8 leniently (invalid sequences become U+FFFD). */
export function utf8Decode(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; ) {
    const c = b[i];
    const n = c < 0x80 ? 1 : c >= 0xf0 && c < 0xf8 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
    if (n === 1) {
      s += String.fromCharCode(c);
      i++;
      continue;
    }
    let cp = n === 0 ? -1 : c & (0x7f >> n);
    for (let k = 1; k < n && cp >= 0; k++) {
      const cc = b[i + k];
      cp = cc !== undefined && (cc & 0xc0) === 0x80 ? (cp << 6) | (cc & 0x3f) : -1;
    }
    if (cp < 0 || cp > 0x10ffff) {
      s += '\ufffd';
      i++;
    } else {
      s += String.fromCodePoint(cp);
      i += n;
    }
  }
  return s;
}
