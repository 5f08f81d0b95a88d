// The checks one mkdump image goes through. Each returns a list of mismatch descriptions (empty =
// conformant) so a failing test shows every disagreement at once, not just the first.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, constants as fsConstants, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, type CliResult } from './cli.ts';
import type { Generated, ManifestSymbol, Probe } from './mkdump.ts';
import { nlistModel, readSymtab } from './nlist-model.ts';
import {
  chunksOf, expectedMachine, headerSegments, hexAddr, ImageFile, modelRead, PAGE_BYTES, pa2off, walkErrorText, type ReadOutcome,
} from './reader-model.ts';

export type Run = (argv: string[]) => Promise<CliResult>;

export function dumpArgs(g: Generated, dump = g.dump): string[] {
  return ['--kernel', g.kernel, '--dump', dump, '--dump-offset', String(g.manifest.dump_off), '--json'];
}

/** Whether the header at dump_off is one kvm_dump_mkheader accepts (> 0). */
export function headerValid(g: Generated): boolean {
  return g.manifest.expect.mkheader.ret > 0;
}

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

const diff = (what: string, got: unknown, want: unknown) => `${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`;

function cmp(out: string[], what: string, got: unknown, want: unknown): void {
  if (JSON.stringify(got) !== JSON.stringify(want)) out.push(diff(what, got, want));
}

// ---- mkheader -------------------------------------------------------------------------------------

/** Expected kvm_geterr() for headers the manifest only says "-1" about (spec 4.4–4.6). */
export function expectedMkheaderError(g: Generated): string {
  const m = g.manifest;
  const e = m.expect.mkheader;
  if (e.errbuf !== undefined) return e.errbuf;
  if (e.ret > 0) return '';
  const size = m.files.dump.size;
  const at = m.dump_off.toString(16);
  if (size === 0) return `read 0 bytes at offset ${at} for cpu_hdr instead of requested 8`; // not mapped: plain pread, EOF
  if (m.dump_off + 8 > size) return `read 8 bytes at offset ${at} for cpu_hdr failed: Invalid argument`; // mapped: EINVAL
  // An i386 libkvm is an ILP32 build: size_t is 32 bits, and jemalloc refuses a malloc above
  // PTRDIFF_MAX, so such a c_size fails with "no cpu_data" before any read.
  const ilp32 = m.arch === 'i386';
  if (ilp32 && m.dump_header.c_size > 0x7fffffff) return 'no cpu_data';
  // The CPU data read fails (mapped: EINVAL); the count prints as %zu of -1.
  return `size ${ilp32 ? '4294967295' : '18446744073709551615'} != cpu_hdr.csize ${m.dump_header.c_size}`;
}

export async function checkMkheader(g: Generated, run: Run): Promise<string[]> {
  const m = g.manifest;
  const out: string[] = [];
  const r = await run(['mkheader', ...dumpArgs(g)]);
  const j = r.json;
  if (!j) return [`mkheader: no JSON (exit ${r.code}, stderr ${r.stderr})`];
  cmp(out, 'mkheader result', j.result, m.expect.mkheader.ret);
  cmp(out, 'mkheader error', j.error, expectedMkheaderError(g));
  cmp(out, 'mkheader exit', r.code, m.expect.mkheader.ret > 0 ? 0 : 1); // 0: no valid header found
  if (m.expect.mkheader.ret > 0) {
    cmp(out, 'mkheader result = expected_mkheader_header_size', j.result, m.expected_mkheader_header_size);
    cmp(out, 'mkheader result = dump_header_size', j.result, m.dump_header.dump_header_size);
    cmp(out, 'machine', j.machine, expectedMachine(m));
    cmp(out, 'dumpOffset (first memory byte)', j.dumpOffset, m.mem_off);
    cmp(out, 'cpuDataSize', j.cpuDataSize, m.dump_header.c_size);
    const segs = headerSegments(m).map((s) => ({ start: hexAddr(s.start), size: hexAddr(s.size) }));
    cmp(out, 'memsegs', j.memsegs, segs);
    if (m.arch !== 'aarch64' && m.dump_header.nmemsegs_field !== undefined) cmp(out, 'memsegs count = nmemsegs', j.memsegs.length, m.dump_header.nmemsegs_field);
    // The CPU data the CLI reports is the header's: c_size bytes from ALIGN(8).
    cmp(out, 'cpu_data_hex length', m.dump_header.cpu_data_hex.length / 2, m.dump_header.c_size);
  } else {
    cmp(out, 'no machine after a failed mkheader', j.machine, null);
    cmp(out, 'no memsegs after a failed mkheader', j.memsegs, []);
  }
  return out;
}

// ---- wrtheader ------------------------------------------------------------------------------------

export async function checkWrtheader(g: Generated, run: Run, scratch: string): Promise<string[]> {
  const m = g.manifest;
  const out: string[] = [];
  const cases = Object.entries(m.expect.wrtheader ?? {});
  if (m.expect.mkheader.ret > 0 && cases.length !== 4) out.push(`manifest has ${cases.length} wrtheader cases, want 4`);
  for (const [dumpsize, want] of cases) {
    const file = join(scratch, `wrt-${dumpsize}.core`);
    const r = await run(['wrtheader', ...dumpArgs(g), '--dumpsize', dumpsize, '--out', file]);
    cmp(out, `wrtheader(${dumpsize}) result`, r.json?.result, want.ret);
    cmp(out, `wrtheader(${dumpsize}) error`, r.json?.error, '');
    cmp(out, `wrtheader(${dumpsize}) exit`, r.code, 0);
    if (!existsSync(file)) {
      out.push(`wrtheader(${dumpsize}): no output file (exit ${r.code}; stderr: ${r.stderr.slice(0, 400)})`);
      continue;
    }
    const bytes = readFileSync(file);
    cmp(out, `wrtheader(${dumpsize}) file length`, bytes.length, want.len);
    cmp(out, `wrtheader(${dumpsize}) sha256`, sha256(bytes), want.sha256);
    // The CPU data inside the header is the dump's, verbatim (spec 1.2).
    const align = Number(m.constants.ALIGNBYTES) + 1;
    const hdrsize = Math.ceil(12 / align) * align;
    const seg = Math.ceil(8 / align) * align;
    cmp(out, `wrtheader(${dumpsize}) cpu data`, bytes.subarray(hdrsize + seg, hdrsize + seg + m.dump_header.c_size).toString('hex'), m.dump_header.cpu_data_hex);
    cmp(out, `wrtheader(${dumpsize}) data c_size`, bytes.readUInt32LE(bytes.length - seg + 4), Number(BigInt(dumpsize) & 0xffffffffn));
    rmSync(file, { force: true });
  }
  if (m.expect.mkheader.ret <= 0) {
    const file = join(scratch, 'wrt-invalid.core');
    const r = await run(['wrtheader', ...dumpArgs(g), '--dumpsize', '0', '--out', file]);
    cmp(out, 'wrtheader without a header: result', r.json?.result, -1);
    cmp(out, 'wrtheader without a header: error', r.json?.error, 'no valid dump header(s)');
    cmp(out, 'wrtheader without a header: exit', r.code, 1);
    rmSync(file, { force: true });
  }
  return out;
}

// ---- inval ----------------------------------------------------------------------------------------

function copyImage(src: string, dst: string): void {
  // cp keeps holes (multi-GiB sparse images stay cheap) and reflinks where it can; else a plain copy.
  const cp = spawnSync('cp', ['--sparse=always', '--reflink=auto', src, dst], { stdio: 'ignore' });
  if (cp.status !== 0) copyFileSync(src, dst, fsConstants.COPYFILE_FICLONE);
}

export async function checkInval(g: Generated, run: Run, scratch: string): Promise<string[]> {
  const m = g.manifest;
  const out: string[] = [];
  const want = m.expect.inval;
  if (!want) {
    // No header: kvm_dump_inval still looks dumpmag up and translates it without cpu data.
    return out;
  }
  const copy = join(scratch, 'inval.img');
  copyImage(g.dump, copy);
  try {
    const r = await run(['inval', ...dumpArgs(g, copy), '--yes']);
    cmp(out, 'inval result', r.json?.result, want.ret);
    cmp(out, 'inval exit', r.code, want.ret >= 0 ? 0 : 1);
    const img = new ImageFile(copy, statSync(copy).size);
    const orig = new ImageFile(g.dump, m.files.dump.size);
    try {
      if (want.ret === 0) {
        cmp(out, 'inval error', r.json?.error, '');
        cmp(out, 'inval offset', r.json?.offset, want.file_off);
        cmp(out, 'inval length', r.json?.length, want.bytes_zeroed);
        const off = want.file_off!;
        const n = want.bytes_zeroed!;
        cmp(out, 'inval: zeroed bytes in the copy', img.bytes(off, n).toString('hex'), '00'.repeat(n));
        cmp(out, 'inval: bytes before unchanged', img.bytes(off - 16, 16).toString('hex'), orig.bytes(off - 16, 16).toString('hex'));
        cmp(out, 'inval: bytes after unchanged', img.bytes(off + n, 16).toString('hex'), orig.bytes(off + n, 16).toString('hex'));
        cmp(out, 'inval: file size unchanged', img.size, m.files.dump.size);
        // Nothing else changed: the copy with the original bytes put back hashes like the image.
        if (m.files.dump.size <= 256 << 20) {
          const all = readFileSync(copy);
          orig.bytes(off, n).copy(all, off);
          cmp(out, 'inval: rest of the image unchanged', sha256(all), m.files.dump.sha256);
        }
        // Re-read through the CLI: dumpmag now reads as zeros where the inval landed.
        const dumpmag = m.symbols.find((s) => s.name === 'dumpmag' && s.bind === 'global')!;
        const rr = await run(['read', ...dumpArgs(g, copy), '--va', dumpmag.va, '--length', '4']);
        if (!dumpmag.translation_corrupted) cmp(out, 'read dumpmag after inval', rr.json?.hex, '00000000');
      } else {
        const note = /\(([a-z-]+) at level (\d+)\)/.exec(want.note ?? '');
        if (note) cmp(out, 'inval error', r.json?.error, walkErrorText(m, note[1], Number(note[2])));
        else out.push(`inval: manifest note without a walk error: ${want.note}`);
        cmp(out, 'inval offset', r.json?.offset, null);
        cmp(out, 'inval: image unchanged', sha256(readFileSync(copy)), m.files.dump.sha256);
      }
    } finally {
      img.close();
      orig.close();
    }
  } finally {
    rmSync(copy, { force: true });
  }
  return out;
}

// ---- reads, translations, symbols -----------------------------------------------------------------

function readLen(s: ManifestSymbol): number {
  return s.read_len ?? s.size;
}

/** What the CLI's read must print for a symbol or probe. */
export function expectedRead(g: Generated, img: ImageFile, item: ManifestSymbol | Probe, len: number): ReadOutcome & { model: string } {
  if (item.translation_corrupted && item.walk_read) {
    const w = item.walk_read;
    const walkErr = item.walk?.error;
    const error = w.ret === -1
      ? (walkErr ? `_kvm_kvatop(${BigInt(item.va).toString(16)})` : '*_kvm_kvatop')
      : w.ret < len ? 'kvm_read: Invalid argument' : '';
    return { result: w.ret, hex: w.hex, error, model: 'walk_read' };
  }
  const p = item as Probe;
  if (p.quirk?.startsWith('translation ignores VA bits 48..63')) {
    // spec 5.2: the amd64 walk clears VA bits 63..48 before indexing, so the non-canonical alias
    // translates like its canonical twin (the manifest's "unmapped" is what the CPU would do).
    const canonical = BigInt.asUintN(64, BigInt.asIntN(48, BigInt(p.va)));
    const r = modelRead(g.manifest, img, hexAddr(canonical), len, chunksFromMappings(g.manifest, canonical, len));
    return { ...r, model: 'spec 5.2: VA bits 48..63 ignored' };
  }
  return { ...modelRead(g.manifest, img, item.va, len, chunksOf(item, len)), model: 'spec reader over intended mappings' };
}

/** Intended translation pieces from manifest.virtual.mappings (for VAs that have no chunk list). */
export function chunksFromMappings(m: Generated['manifest'], va: bigint, len: number) {
  const maps = m.virtual.mappings;
  const out: { va: string; len: number; pa?: string; page?: string; mapped?: boolean }[] = [];
  let pos = 0;
  while (pos < len) {
    const v = va + BigInt(pos);
    const map = maps.find((x) => BigInt(x.va) <= v && v < BigInt(x.va) + BigInt(x.size));
    if (!map) {
      out.push({ va: hexAddr(v), len: len - pos, mapped: false });
      break;
    }
    const n = Math.min(len - pos, Number(BigInt(map.va) + BigInt(map.size) - v));
    out.push({ va: hexAddr(v), len: n, pa: hexAddr(BigInt(map.pa) + (v - BigInt(map.va))), page: map.page });
    pos += n;
  }
  return out;
}

function cmpRead(out: string[], what: string, r: CliResult, want: ReadOutcome, requested: number): void {
  const j = r.json ?? {};
  const errOk = want.error === '*_kvm_kvatop' ? /^_kvm_kvatop\([0-9a-f]+\)$/.test(j.error) : j.error === want.error;
  if (j.result !== want.result || j.hex !== want.hex || !errOk) {
    out.push(diff(what, { result: j.result, error: j.error, hex: j.hex?.slice(0, 64) }, { result: want.result, error: want.error, hex: want.hex.slice(0, 64) }));
  }
  // The CLI exits 0 only when kvm_read returned every byte asked for (README, exit codes).
  cmp(out, `${what} exit`, r.code, want.result === requested ? 0 : 1);
}

/** The manifest's own statement about a read must agree with the spec model (else: a generator issue). */
function manifestAgrees(out: string[], g: Generated, item: ManifestSymbol | Probe, want: ReadOutcome, len: number, quirkOk: boolean): void {
  if (item.translation_corrupted) return;
  const p = item as Probe;
  if ('expect' in item && p.expect) {
    if (p.expect === 'ok') {
      cmp(out, `manifest probe ${p.name}: ok value vs model`, want.hex, p.value_hex);
    } else if (p.expect === 'unmapped' && !(quirkOk && p.quirk)) {
      cmp(out, `manifest probe ${p.name}: unmapped vs model`, want.result, -1);
    } else if (!quirkOk || !p.quirk) {
      // not-dumped / beyond-eof: the reader stops with EINVAL right where the trouble starts.
      cmp(out, `manifest probe ${p.name}: ${p.expect} prefix vs model`, want.result, p.ok_prefix);
    }
    return;
  }
  const s = item as ManifestSymbol;
  if (s.value_hex != null && s.file_readable) cmp(out, `manifest symbol ${s.name}: value vs model`, want.hex, s.value_hex);
  if (s.file_readable === false) {
    if (want.result === len) out.push(`manifest symbol ${s.name}: file_readable false but a reader gets all ${len} bytes`);
  }
}

export async function checkSymbols(g: Generated, run: Run): Promise<{ mismatches: string[]; reads: number; kvatops: number }> {
  const m = g.manifest;
  const out: string[] = [];
  const img = new ImageFile(g.dump, m.files.dump.size);
  let reads = 0;
  let kvatops = 0;
  const counts = new Map<string, number>();
  const seenPages = new Set<bigint>();
  for (const s of m.symbols) counts.set(s.name, (counts.get(s.name) ?? 0) + 1);
  try {
    for (const s of m.symbols) {
      const len = readLen(s);
      if (s.value_hex === undefined && !s.translation_corrupted) continue; // markers: nlist only
      if (len === 0) continue;
      const want = expectedRead(g, img, s, len);
      manifestAgrees(out, g, s, want, len, false);
      const r = await run(['read', ...dumpArgs(g), '--va', s.va, '--length', String(len)]);
      reads++;
      cmpRead(out, `read ${s.name}@${s.va} (${want.model})`, r, want, len);
      // By name too, for names that are unique in the kernel (nlist picks the first duplicate).
      if (s.role === 'named' && counts.get(s.name) === 1) {
        const rs = await run(['read', ...dumpArgs(g), '--symbol', s.name, '--length', String(len)]);
        reads++;
        cmpRead(out, `read --symbol ${s.name}`, rs, want, len);
      }
      // Translation of the first byte: for every named or deliberately broken symbol, and one per
      // 4 KiB page for the fillers (a filler's pa and file_off are already proven by its read: the
      // bytes at file_off are its random value).
      const page = BigInt(s.va) >> 12n;
      if (s.role !== 'named' && !s.translation_corrupted && seenPages.has(page)) continue;
      seenPages.add(page);
      const k = await run(['kvatop', ...dumpArgs(g), '--va', s.va]);
      kvatops++;
      const va = BigInt(s.va);
      if (s.translation_corrupted && s.walk) {
        const w = s.walk;
        if (w.error) {
          cmp(out, `kvatop ${s.name} (corrupted walk) result`, k.json?.result, 0);
          cmp(out, `kvatop ${s.name} (corrupted walk) error`, k.json?.error, walkErrorText(m, w.error, w.level!));
        } else {
          const ps = PAGE_BYTES[w.page!];
          cmp(out, `kvatop ${s.name} (corrupted walk)`, [k.json?.result, k.json?.pa, k.json?.offset], [Number(ps - (va % ps)), w.pa, w.file_off]);
        }
      } else if (s.pa !== undefined) {
        const ps = PAGE_BYTES[s.page!];
        const wantOff = s.file_off ?? pa2off(m, BigInt(s.pa));
        cmp(out, `kvatop ${s.name}`, [k.json?.result, k.json?.error, k.json?.pa, k.json?.offset], [Number(ps - (va % ps)), '', s.pa, wantOff]);
        if (s.file_off != null) cmp(out, `manifest ${s.name}: file_off = pa2off(pa)`, s.file_off, pa2off(m, BigInt(s.pa)));
      }
    }
  } finally {
    img.close();
  }
  return { mismatches: out, reads, kvatops };
}

export async function checkProbes(g: Generated, run: Run): Promise<string[]> {
  const m = g.manifest;
  const out: string[] = [];
  const img = new ImageFile(g.dump, m.files.dump.size);
  try {
    for (const p of m.probes) {
      const want = expectedRead(g, img, p, p.len);
      manifestAgrees(out, g, p, want, p.len, true);
      const r = await run(['read', ...dumpArgs(g), '--va', p.va, '--length', String(p.len)]);
      cmpRead(out, `probe "${p.name}" (${want.model})`, r, want, p.len);
      // Documented quirks: check that the reader really shows them.
      if (p.quirk?.startsWith('a large-page read is one file read') || p.quirk?.startsWith('a block read is one file read')) {
        if (!p.translation_corrupted) cmp(out, `probe "${p.name}": quirk (one read across the segment end)`, r.json?.result, p.len);
      }
      if (p.quirk?.startsWith('pa2off of an undumped PA') && !p.translation_corrupted && p.chunks[0]?.pa) {
        const k = await run(['kvatop', ...dumpArgs(g), '--va', p.va]);
        cmp(out, `probe "${p.name}": quirk (pa2off just past the last segment)`, k.json?.offset, pa2off(m, BigInt(p.chunks[0].pa)));
        const end = m.mem_off + headerSegments(m).reduce((n, s) => n + Number(s.size), 0);
        cmp(out, `probe "${p.name}": past-the-end offset`, k.json?.offset, end);
      }
      if (p.quirk?.startsWith('kvm_read returns 0 without translating')) cmp(out, `probe "${p.name}": zero-length read`, [r.json?.result, r.json?.error], [0, '']);
      if (p.expect === 'unmapped' && !p.translation_corrupted && !p.quirk) {
        const firstUnmapped = p.chunks.find((c) => c.mapped === false)!;
        const k = await run(['kvatop', ...dumpArgs(g), '--va', firstUnmapped.va]);
        cmp(out, `probe "${p.name}": kvatop of the unmapped VA fails`, k.json?.result, 0);
        if (!/^(invalid translation \(invalid (level [234] PDE|PDE|PTE|pte)\)|invalid kernel virtual address)$/.test(k.json?.error ?? '')) {
          out.push(diff(`probe "${p.name}": kvatop error`, k.json?.error, 'an "invalid translation" message'));
        }
      }
    }
  } finally {
    img.close();
  }
  return out;
}

/** pa_probes: reach each PA through a mapping that covers it (direct map, low-memory alias) and kvatop it. */
export async function checkPaProbes(g: Generated, run: Run): Promise<{ mismatches: string[]; checked: number; unreachable: string[] }> {
  const m = g.manifest;
  const out: string[] = [];
  const unreachable: string[] = [];
  let checked = 0;
  const maps = m.virtual.mappings.filter((x) => x.page !== 'recursive');
  for (const p of m.pa_probes) {
    const pa = BigInt(p.pa);
    const map = maps.find((x) => BigInt(x.pa) <= pa && pa < BigInt(x.pa) + BigInt(x.size));
    if (!map) {
      unreachable.push(p.pa);
      continue;
    }
    const va = BigInt(map.va) + (pa - BigInt(map.pa));
    const k = await run(['kvatop', ...dumpArgs(g), '--va', hexAddr(va)]);
    checked++;
    // The reader's offset is pa2off over the header's table (spec 5.1); for an intact table that is
    // the intended offset, and "just past the last segment" for a PA that was not dumped.
    cmp(out, `pa_probe ${p.pa} via ${hexAddr(va)}`, [k.json?.pa, k.json?.offset], [p.pa, pa2off(m, pa)]);
    if (p.file_off_intended !== null && !m.corrupt) cmp(out, `manifest pa_probe ${p.pa}: file_off_intended = pa2off`, p.file_off_intended, pa2off(m, pa));
  }
  return { mismatches: out, checked, unreachable };
}

// ---- nlist ----------------------------------------------------------------------------------------

export async function checkNlist(g: Generated, run: Run): Promise<string[]> {
  const m = g.manifest;
  const out: string[] = [];
  const symtab = readSymtab(readFileSync(g.kernel));
  cmp(out, 'symtab size', symtab.length, m.elf.symtab_nsyms);
  // manifest elf.symtab_index: "name(bind)" → index.
  for (const [key, idx] of Object.entries(m.elf.symtab_index)) {
    const name = key.replace(/\((local|global)\)$/, '');
    const bind = key.endsWith('(local)') ? 0 : 1;
    const e = symtab[idx];
    cmp(out, `symtab[${idx}] is ${key}`, [e?.name, (e?.info ?? 0) >> 4], [name, bind]);
  }
  const firstGlobal = symtab.findIndex((e) => e.info >> 4 !== 0);
  cmp(out, 'first global index', firstGlobal, m.elf.symtab_index_first_global);
  // Every manifest symbol is in the symtab with its manifest VA.
  for (const s of m.symbols) {
    const bind = s.bind === 'local' ? 0 : 1;
    if (!symtab.some((e) => e.name === s.name && e.value === BigInt(s.va) && e.info >> 4 === bind)) out.push(`symbol ${s.name} ${s.bind} ${s.va} not in the kernel's .symtab`);
  }
  // The quirk lists from the manifest alone: a symbol table reduced to the entries
  // elf.symtab_index names (in their file order) gives the same 6.3 outcome, since the lists only
  // name those symbols (or none at all).
  const reduced = Object.entries(m.elf.symtab_index).map(([key, index]) => {
    const name = key.replace(/\((local|global)\)$/, '');
    const bind = key.endsWith('(local)') ? 'local' : 'global';
    const sym = m.symbols.find((x) => x.name === name && x.bind === bind);
    return { index, name, value: BigInt(sym?.va ?? -1), info: bind === 'local' ? 0 : 0x10, shndx: 1 };
  }).sort((a, b) => a.index - b.index);
  for (const list of m.nlist_quirk_lists) {
    const fromManifest = nlistModel(reduced, list);
    const fromKernel = nlistModel(symtab, list);
    const show = (o: { result: number; values: (bigint | null)[] }) => ({ result: o.result, values: o.values.map((v) => (v === null ? null : hexAddr(v))) });
    cmp(out, `quirk list ${list.join(' ')}: manifest-only model = kernel model`, show(fromManifest), show(fromKernel));
  }
  // Unique names (underscore-prefixed, as savecore asks), in batches; expected from the 6.3 model.
  const names = [...new Set(m.symbols.map((s) => `_${s.name}`))];
  const lists: string[][] = [...m.nlist_quirk_lists];
  for (let i = 0; i < names.length; i += 120) lists.push(names.slice(i, i + 120));
  for (const name of new Set(m.symbols.map((s) => s.name))) {
    if (m.symbols.filter((s) => s.name === name).length > 1) lists.push([`_${name}`], [name]);
  }
  for (const list of lists) {
    const model = nlistModel(symtab, list);
    const r = await run(['nlist', '--kernel', g.kernel, '--json', ...list]);
    const want: Record<string, string | null> = {};
    list.forEach((n, i) => (want[n] = model.values[i] === null ? null : hexAddr(model.values[i]!)));
    cmp(out, `nlist ${list.slice(0, 4).join(' ')}${list.length > 4 ? ` … (${list.length})` : ''}`, [r.json?.result, r.json?.symbols], [model.result, want]);
  }
  // Single-name lookups: the manifest VA (first duplicate in file order for duplicated names).
  for (const s of m.symbols) {
    if (m.symbols.filter((x) => x.name === s.name).length > 1) continue;
    if (s.role === 'filler' && m.symbols.indexOf(s) % 25 !== 0) continue; // the batches above cover every filler
    const r = await run(['nlist', '--kernel', g.kernel, '--json', `_${s.name}`]);
    cmp(out, `nlist _${s.name}`, r.json?.symbols?.[`_${s.name}`], s.va);
  }
  return out;
}

// ---- scan -----------------------------------------------------------------------------------------

export async function checkScan(g: Generated, run: Run): Promise<string[]> {
  const m = g.manifest;
  const out: string[] = [];
  const r = await run(['scan', '--dump', g.dump, '--json']);
  const cands: { offset: number; machine: string; headerSize: number; segments: number; notes: string[] }[] = r.json?.candidates ?? [];
  const at = cands.filter((c) => c.offset === m.dump_off);
  // Every header mkheader accepts is found; the two oddities mkheader does not check (flag, no
  // segments) are reported as notes on the candidate (see KNOWN_DIFFERENCES.md).
  const expectedNotes = m.corrupt === 'wrong-flag' ? 1 : m.corrupt === 'zero-segments' && m.arch !== 'aarch64' ? 1 : 0;
  if (m.expect.mkheader.ret > 0) {
    cmp(out, 'scan candidate at dump_off', at.map((c) => ({ offset: c.offset, machine: c.machine, headerSize: c.headerSize, notes: c.notes.length })), [{ offset: m.dump_off, machine: expectedMachine(m), headerSize: m.dump_header.dump_header_size, notes: expectedNotes }]);
  } else if (m.expect.mkheader.ret === 0 && m.corrupt === 'wrong-mid' && m.arch !== 'aarch64') {
    // Without a kernel, the scanner can only believe the MID: the other x86's layout reads this
    // header as listing no memory, and the candidate says so (mkheader with the kernel rejects it).
    const other = m.arch === 'amd64' ? 'i386' : 'amd64';
    cmp(out, 'scan: a wrong x86 MID reads as the other x86, with no segments', at.map((c) => ({ offset: c.offset, machine: c.machine, segments: c.segments, notes: c.notes })),
      [{ offset: m.dump_off, machine: other, segments: 0, notes: ['the header lists no memory segments'] }]);
  } else if (m.expect.mkheader.ret === 0) {
    cmp(out, 'scan: no candidate where mkheader rejects the magic/mid', at, []);
  }
  cmp(out, 'scan exit', r.code, 0);
  return out;
}
