// A selection copied as people paste it: hex (space-separated, 16 per line), a C array, or text
// (printable ASCII, others as '.').

export function asHex(b: Uint8Array): string {
  const lines: string[] = [];
  for (let i = 0; i < b.length; i += 16) {
    lines.push(Array.from(b.subarray(i, i + 16), (x) => x.toString(16).padStart(2, '0')).join(' '));
  }
  return lines.join('\n');
}

export function asCArray(b: Uint8Array, name = 'data'): string {
  const lines: string[] = [];
  for (let i = 0; i < b.length; i += 12) {
    lines.push('  ' + Array.from(b.subarray(i, i + 12), (x) => `0x${x.toString(16).padStart(2, '0')}`).join(', ') + (i + 12 < b.length ? ',' : ''));
  }
  return `unsigned char ${name}[${b.length}] = {\n${lines.join('\n')}\n};`;
}

export function asText(b: Uint8Array): string {
  return Array.from(b, (x) => (x >= 0x20 && x < 0x7f ? String.fromCharCode(x) : x === 10 ? '\n' : '.')).join('');
}
