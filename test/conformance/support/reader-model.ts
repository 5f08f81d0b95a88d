// What a NetBSD dump reader must return, derived from the spec (4.4 mapped-file pread, 4.11
// kvm_read, 5.1 pa2off, 5.6 messages) and the facts in an mkdump manifest. The manifest states
// the intended memory contents; this model adds the reader's mechanics (one pread per
// translation, "just past the last segment" for undumped PAs, EINVAL past the end of a mapped
// file), so the tests can tell a quirk the spec demands from a bug.

import { closeSync, openSync, readSync } from 'node:fs';
import type { Chunk, Manifest, ManifestSymbol, Probe } from './mkdump.ts';

export const PAGE_BYTES: Record<string, bigint> = {
  '4k': 0x1000n, recursive: 0x1000n, '2m': 0x200000n, '4m': 0x400000n, '1g': 0x40000000n,
};

export function hexAddr(v: bigint): string {
  return `0x${v.toString(16)}`;
}

/** The segment table a reader's pa2off walks (x86: nmemsegs entries; aarch64: up to the zero entry). */
export function headerSegments(m: Manifest): { start: bigint; size: bigint }[] {
  const all = m.dump_header.segments.map((s) => ({ start: BigInt(s.start), size: BigInt(s.size) }));
  const n = m.dump_header.pa2off_nsegs ?? (m.arch === 'aarch64' ? all.length : (m.dump_header.nmemsegs_field ?? all.length));
  return all.slice(0, n);
}

/** _kvm_pa2off (spec 5.1): first matching segment; otherwise just past the last one. */
export function pa2off(m: Manifest, pa: bigint): number {
  let off = 0n;
  for (const s of headerSegments(m)) {
    if (s.start <= pa && pa - s.start < s.size) return m.mem_off + Number(off + (pa - s.start));
    off += s.size;
  }
  return m.mem_off + Number(off);
}

/** The image file, read with positioned reads (works for multi-GiB sparse files). */
export class ImageFile {
  private fd: number;
  constructor(
    readonly path: string,
    readonly size: number,
  ) {
    this.fd = openSync(path, 'r');
  }
  bytes(off: number, n: number): Buffer {
    const b = Buffer.alloc(n);
    let done = 0;
    while (done < n) {
      const r = readSync(this.fd, b, done, n - done, off + done);
      if (r <= 0) break;
      done += r;
    }
    return b.subarray(0, done);
  }
  close(): void {
    closeSync(this.fd);
  }
}

export interface ReadOutcome {
  result: number;
  hex: string;
  error: string;
}

/** The intended translation pieces of [va, va+len): the manifest's chunks, or the symbol as one piece. */
export function chunksOf(item: ManifestSymbol | Probe, len: number): Chunk[] {
  if (item.chunks && item.chunks.length) return item.chunks;
  const s = item as ManifestSymbol;
  if (s.pa === undefined) return [{ va: s.va, len, mapped: false }];
  return [{ va: s.va, len, pa: s.pa, page: s.page, file_off: s.file_off }];
}

/** kvm_read over the intended mappings: one pread per translation, per spec 4.11 / 4.4 / 5.1. */
export function modelRead(m: Manifest, img: ImageFile, vaText: string, len: number, chunks: Chunk[]): ReadOutcome {
  if (len === 0) return { result: 0, hex: '', error: '' };
  const va0 = BigInt(vaText);
  const parts: Buffer[] = [];
  let pos = 0;
  while (pos < len) {
    const va = va0 + BigInt(pos);
    const c = chunks.find((x) => BigInt(x.va) <= va && va < BigInt(x.va) + BigInt(x.len));
    if (!c || c.mapped === false || c.pa === undefined) {
      return { result: -1, hex: '', error: `_kvm_kvatop(${va.toString(16)})` };
    }
    const pa = BigInt(c.pa) + (va - BigInt(c.va));
    const ps = PAGE_BYTES[c.page ?? '4k'];
    if (!ps) throw new Error(`reader model: unknown page kind ${c.page}`);
    const cc = Math.min(Number(ps - (va % ps)), len - pos);
    const off = pa2off(m, pa);
    if (off + cc > img.size) return { result: pos, hex: Buffer.concat(parts).toString('hex'), error: 'kvm_read: Invalid argument' };
    parts.push(img.bytes(off, cc));
    pos += cc;
  }
  return { result: len, hex: Buffer.concat(parts).toString('hex'), error: '' };
}

/** kvm_geterr() after _kvm_kvatop fails the way the manifest's as-built walk says (spec 5.2–5.6). */
export function walkErrorText(m: Manifest, error: string, level: number): string {
  if (m.arch === 'aarch64') {
    switch (error) {
      case 'not-present': return 'invalid translation (invalid pte)';
      case 'unreadable': return 'could not read pte: Invalid argument';
      case 'invalid-kva': return 'invalid kernel virtual address';
      case 'bad-granule': return '';
    }
  } else if (m.arch === 'amd64') {
    if (error === 'not-present') return level === 1 ? 'invalid translation (invalid PTE)' : `invalid translation (invalid level ${level} PDE)`;
    if (error === 'unreadable') return level === 1 ? 'could not read PTE: Invalid argument' : `could not read PT level ${level} entry: Invalid argument`;
  } else {
    if (error === 'not-present') return level === 1 ? 'invalid translation (invalid PTE)' : 'invalid translation (invalid PDE)';
    if (error === 'unreadable') return level === 1 ? 'could not read PTE: Invalid argument' : 'could not read PDE: Invalid argument';
  }
  throw new Error(`reader model: walk error ${error} at level ${level} on ${m.arch}`);
}

/** The machine name the header selects (i386: the PAE bit of pdppaddr decides, spec 5.3/5.4). */
export function expectedMachine(m: Manifest): string {
  if (m.arch !== 'i386') return m.arch;
  const field = m.dump_header.pdppaddr_field ?? m.dump_header.cpu_data_hex.slice(0, 8).match(/../g)!.reverse().join('');
  return (BigInt(field.startsWith('0x') ? field : `0x${field}`) & 0x200n) !== 0n ? 'i386pae' : 'i386';
}
