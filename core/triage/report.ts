// Crash triage from the dump alone: "what crashed, when and why". Every piece of the report is
// either { value } or { notAvailable: reason }; building it never throws, so a half-corrupt dump
// still yields everything that can be read. The field sources follow savecore(8) (spec 7.3 step 9
// crash time, 7.4 panic message) and the kernel variables of spec 2.6.

import { ByteView, hex } from '../format/bytes.ts';
import { readElfVirtual } from '../format/elf.ts';
import type { Kvm } from '../kvm.ts';
import { cString, lookupSymbols, machineWords, readExactly, type Read, type SymbolTable } from './kread.ts';
import { lastLines, readMessageBuffer } from './msgbuf.ts';
import { readPanicMessage, savecoreSyslogLine, type PanicInfo } from './panic.ts';

export type Piece<T> = { value: T } | { notAvailable: string };

export interface TimeValue {
  sec: number;
  /** Nanoseconds (boottime) or null when the source has none. */
  nsec: number | null;
  /** UTC, or null when the seconds are outside what Date can show. */
  iso: string | null;
}

export interface CrashTime extends TimeValue {
  /** time_second, or the old kernels' `struct timeval time` (spec 7.3 step 9). */
  source: 'time_second' | 'time';
}

export interface MsgbufSummary {
  va: string;
  magic: string;
  bufx: number;
  bufr: number;
  bufs: number;
  bufcOffset: number;
  wrapped: boolean;
  /** Characters in reading order (NULs skipped). */
  textLength: number;
  lineCount: number;
  /** The last N lines, oldest first. */
  lastLines: string[];
  /** The last line of the whole ring holding "panic: ", when there is one (not savecore's derivation). */
  lastPanicLine: string | null;
}

export interface TriageReport {
  schema: 'kvmdump-triage/1';
  version: Piece<string>;
  ostype: Piece<string>;
  osrelease: Piece<string>;
  hostname: Piece<string>;
  /** The version string inside the kernel file given with --kernel (its .rodata, not the dump). */
  kernelFileVersion: Piece<string>;
  /** savecore's check_kmem comparison: null warning when the kernel file matches the dump. */
  versionCheck: Piece<{ match: boolean; warning: string | null }>;
  boottime: Piece<TimeValue>;
  crashTime: Piece<CrashTime>;
  uptime: Piece<{ seconds: number; text: string }>;
  panic: PanicInfo & {
    savecoreSyslog: string;
    /**
     * Why savecore's derivation could not run at all (its symbols are not in the namelist), or null
     * when it ran: "no panic message" is then about missing symbols, not about the crash.
     */
    derivationBlocked: string | null;
  };
  msgbuf: Piece<MsgbufSummary>;
  physicalMemory: Piece<{ bytes: number; segments: { start: string; size: string }[] }>;
  machine: Piece<{ name: string; longSize: number; pageSize: number; fields: Record<string, string> }>;
  dump: { name: string | null; format: 'savecore-core' | 'dump-device' | 'unknown'; headerOffset: number | null; memoryOffset: number | null; cpuDataSize: number };
}

export interface TriageReportOptions {
  /** Message-buffer lines to keep in the report (default 20). */
  lines?: number;
  /** Offset of the dump header on the device (dumplo * 512) when known. */
  dumpOffset?: number;
  /** How the dump is named in the text header. */
  dumpName?: string;
}

export const DEFAULT_REPORT_LINES = 20;
/** savecore reads 1024 bytes of version and forces a NUL at 1023 (spec 7.3 step 2.7, 7.4). */
const VERSION_MAX = 1024;
/** MAXHOSTNAMELEN; also enough for ostype/osrelease. */
const SHORT_STRING_MAX = 256;
const STRING_SYMBOLS = ['version', 'ostype', 'osrelease', 'hostname'] as const;
const TIME_SYMBOLS = ['time_second', 'time', 'boottime'] as const;

export async function buildTriageReport(kd: Kvm, opts: TriageReportOptions = {}): Promise<TriageReport> {
  const syms = await lookupSymbols(kd, [...STRING_SYMBOLS, ...TIME_SYMBOLS]);
  const version = await readKernelString(kd, syms, 'version', VERSION_MAX);
  const kernelFileVersion = await readKernelFileVersion(kd);
  const boottime = await readBoottime(kd, syms);
  const crashTime = await readCrashTime(kd, syms);
  const panic = await readPanicMessage(kd);
  return {
    schema: 'kvmdump-triage/1',
    version,
    ostype: await readKernelString(kd, syms, 'ostype', SHORT_STRING_MAX),
    osrelease: await readKernelString(kd, syms, 'osrelease', SHORT_STRING_MAX),
    hostname: await readKernelString(kd, syms, 'hostname', SHORT_STRING_MAX),
    kernelFileVersion,
    versionCheck: compareVersions(kernelFileVersion, version, kd.kernelSource?.name ?? 'kernel'),
    boottime,
    crashTime,
    uptime: uptimeOf(boottime, crashTime),
    panic: { ...panic, savecoreSyslog: savecoreSyslogLine(panic), derivationBlocked: derivationBlocked(panic) },
    msgbuf: await summarizeMsgbuf(kd, opts.lines ?? DEFAULT_REPORT_LINES),
    physicalMemory: physicalMemoryOf(kd),
    machine: machineOf(kd),
    dump: dumpOf(kd, opts),
  };
}

// ---- strings ---------------------------------------------------------------------------------

/** A char[] variable up to its NUL, read page by page so a later unmapped page does not matter. */
async function readKernelString(kd: Kvm, syms: SymbolTable, name: string, max: number): Promise<Piece<string>> {
  const a = syms.addr(name);
  if (!a.ok) return { notAvailable: a.reason };
  const r = await readCString(kd, a.value, max, name);
  return r.ok ? { value: r.value } : { notAvailable: r.reason };
}

async function readCString(kd: Kvm, va: bigint, max: number, what: string): Promise<Read<string>> {
  const page = BigInt(kd.machineModule?.pageSize ?? 4096);
  const parts: Uint8Array[] = [];
  let have = 0;
  let at = va;
  while (have < max) {
    const chunk = Math.min(max - have, Number(page - (at % page)));
    const r = await readExactly(kd, at, chunk, what);
    if (!r.ok) return r;
    parts.push(r.value);
    have += chunk;
    at += BigInt(chunk);
    if (r.value.includes(0)) break;
  }
  const all = new Uint8Array(have);
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.length;
  }
  return { ok: true, value: cString(all.subarray(0, max - 1)) };
}

/** The kernel file's own `version` string (initialized .rodata, read from the ELF image). */
export async function readKernelFileVersion(kd: Kvm): Promise<Piece<string>> {
  const kernel = kd.kernelSource;
  if (!kernel) return { notAvailable: 'no kernel file given' };
  const syms = await lookupSymbols(kd, ['version']);
  const a = syms.addr('version');
  if (!a.ok) return { notAvailable: a.reason };
  const bytes = await readElfVirtual(kernel, a.value, VERSION_MAX).catch(() => null) ?? (await readElfPrefix(kernel, a.value));
  if (!bytes) return { notAvailable: `version at ${hex(a.value)} is not in the kernel file's loaded segments` };
  return { value: cString(bytes.subarray(0, VERSION_MAX - 1)) };
}

/** A version near the end of a segment: shrink the read until it fits. */
async function readElfPrefix(kernel: NonNullable<Kvm['kernelSource']>, va: bigint): Promise<Uint8Array | null> {
  for (let n = VERSION_MAX >> 1; n >= 16; n >>= 1) {
    const b = await readElfVirtual(kernel, va, n).catch(() => null);
    if (b) return b;
  }
  return null;
}

/**
 * savecore's check_kmem warning when the kernel file and the dump disagree (spec 7.4), or null
 * when they match. Both strings are compared as savecore holds them: at most 1023 bytes.
 */
export function versionMismatch(kernelFileVersion: string, dumpVersion: string, kernelName = 'kernel'): string | null {
  const a = kernelFileVersion.slice(0, VERSION_MAX - 1);
  const b = dumpVersion.slice(0, VERSION_MAX - 1);
  return a === b ? null : `warning: ${kernelName} version mismatch:\n\t${a}\nand\t${b}\n`;
}

function compareVersions(file: Piece<string>, dump: Piece<string>, kernelName: string): TriageReport['versionCheck'] {
  if ('notAvailable' in file) return { notAvailable: `kernel file version: ${file.notAvailable}` };
  if ('notAvailable' in dump) return { notAvailable: `dump version: ${dump.notAvailable}` };
  const warning = versionMismatch(file.value, dump.value, kernelName);
  return { value: { match: warning === null, warning } };
}

// ---- times -----------------------------------------------------------------------------------

/** time_t is 64-bit on every supported flavour (NetBSD ≥ 6, i386 included). */
const TIME_T_SIZE = 8;

function timeValue(sec: bigint, nsec: bigint | null): TimeValue {
  const s = Number(sec);
  let iso: string | null = null;
  const ms = s * 1000 + (nsec === null ? 0 : Math.floor(Number(nsec) / 1e6));
  if (Math.abs(ms) <= 8.64e15) iso = new Date(ms).toISOString();
  return { sec: s, nsec: nsec === null ? null : Number(nsec), iso };
}

async function readTimeT(kd: Kvm, syms: SymbolTable, name: string, size: number): Promise<Read<{ sec: bigint; rest: ByteView }>> {
  const a = syms.addr(name);
  if (!a.ok) return a;
  const r = await readExactly(kd, a.value, size, name);
  if (!r.ok) return r;
  const v = new ByteView(r.value, machineWords(kd).littleEndian);
  return { ok: true, value: { sec: v.i64(0), rest: v } };
}

/** struct timespec boottime: time_t tv_sec, long tv_nsec. */
async function readBoottime(kd: Kvm, syms: SymbolTable): Promise<Piece<TimeValue>> {
  const { longSize } = machineWords(kd);
  const r = await readTimeT(kd, syms, 'boottime', TIME_T_SIZE + longSize);
  if (!r.ok) return { notAvailable: r.reason };
  const nsec = longSize === 8 ? r.value.rest.i64(8) : BigInt(r.value.rest.i32(8));
  return { value: timeValue(r.value.sec, nsec) };
}

/** savecore's get_crashtime (spec 7.3 step 9): time_second, else `time`'s tv_sec; zero is no time. */
async function readCrashTime(kd: Kvm, syms: SymbolTable): Promise<Piece<CrashTime>> {
  let source: CrashTime['source'] = 'time_second';
  let r = await readTimeT(kd, syms, 'time_second', TIME_T_SIZE);
  if (!r.ok) {
    const first = r.reason;
    // struct timeval: time_t tv_sec, suseconds_t (int) tv_usec, padded to 8 on LP64.
    r = await readTimeT(kd, syms, 'time', machineWords(kd).longSize === 8 ? 16 : 12);
    if (!r.ok) return { notAvailable: `${first} (and time: ${r.reason})` };
    source = 'time';
  }
  if (r.value.sec === 0n) return { notAvailable: `dump time is zero (${source})` };
  return { value: { ...timeValue(r.value.sec, null), source } };
}

function uptimeOf(boot: Piece<TimeValue>, crash: Piece<CrashTime>): TriageReport['uptime'] {
  if ('notAvailable' in boot) return { notAvailable: `boottime: ${boot.notAvailable}` };
  if ('notAvailable' in crash) return { notAvailable: `crash time: ${crash.notAvailable}` };
  const seconds = crash.value.sec - boot.value.sec;
  return { value: { seconds, text: durationText(seconds) } };
}

/** "3d 0h 20m 34s" (negative spans keep their sign: a clock set backwards). */
export function durationText(seconds: number): string {
  const sign = seconds < 0 ? '-' : '';
  let s = Math.abs(Math.trunc(seconds));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  return `${sign}${d}d ${h}h ${m}m ${s - m * 60}s`;
}

// ---- message buffer, machine, dump ----------------------------------------------------------

/** panicstr missing from the namelist: savecore could not derive a message at all. */
function derivationBlocked(p: PanicInfo): string | null {
  if (p.message !== null) return null;
  const missing = p.reasons.filter((r) => /not in namelist/.test(r));
  return missing.some((r) => /panicstr\b/.test(r)) ? missing.join('; ') : null;
}

async function summarizeMsgbuf(kd: Kvm, lines: number): Promise<Piece<MsgbufSummary>> {
  const mb = await readMessageBuffer(kd);
  if (!mb.available) return { notAvailable: mb.reason };
  return {
    value: {
      va: hex(mb.va), magic: hex(mb.magic), bufx: mb.bufx, bufr: mb.bufr, bufs: mb.bufs, bufcOffset: mb.bufcOffset,
      wrapped: mb.wrapped, textLength: mb.text.length, lineCount: lastLines(mb.text, Number.MAX_SAFE_INTEGER).length,
      lastLines: lastLines(mb.text, lines),
      lastPanicLine: lastLines(mb.text, Number.MAX_SAFE_INTEGER).filter((l) => l.includes('panic: ')).at(-1) ?? null,
    },
  };
}

function physicalMemoryOf(kd: Kvm): TriageReport['physicalMemory'] {
  const m = kd.machine;
  if (!m) return { notAvailable: 'no valid dump header' };
  const bytes = m.segments.reduce((n, s) => n + s.size, 0n);
  return { value: { bytes: Number(bytes), segments: m.segments.map((s) => ({ start: hex(s.start), size: hex(s.size) })) } };
}

function machineOf(kd: Kvm): TriageReport['machine'] {
  const m = kd.machine;
  const mod = kd.machineModule;
  if (!m || !mod) return { notAvailable: 'no valid dump header' };
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.fields)) fields[k] = hex(v);
  return { value: { name: m.name, longSize: mod.longSize, pageSize: mod.pageSize, fields } };
}

function dumpOf(kd: Kvm, opts: TriageReportOptions): TriageReport['dump'] {
  const format = kd.isCoreFile ? 'savecore-core' : kd.hasHeader ? 'dump-device' : 'unknown';
  return {
    name: opts.dumpName ?? kd.dumpSource.name ?? null,
    format,
    headerOffset: kd.isCoreFile ? 0 : opts.dumpOffset ?? null,
    memoryOffset: kd.hasHeader ? kd.dumpOff : null,
    cpuDataSize: kd.cpuDsize,
  };
}

export { formatReportText, ctimeUtc } from './report-text.ts';
