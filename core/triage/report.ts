// Crash triage from the dump alone: "what crashed, when and why". Every piece of the report is
// either { value } or { notAvailable: reason }; building it never throws, so a half-corrupt dump
// still yields everything that can be read. The field sources follow savecore(8) (spec 7.3 step 9
// crash time, 7.4 panic message) and the kernel variables of spec 2.6.

import { hex } from '../format/bytes.ts';
import { readBootTime, readCrashTime, readKernelFileVersion as readFileVersion, readKernelString, VERSION_MAX } from '../crash/facts.ts';
import type { DumpView } from '../layers/dump-view.ts';
import { lookupSymbols, type Read, type SymbolTable } from './kread.ts';
import { lastLines, readMessageBuffer } from './msgbuf.ts';
import { lastPanicLine, panicVerdict, readPanicMessage, savecoreSyslogLine, type PanicInfo, type PanicVerdict } from './panic.ts';
import type { MessageBuffer } from './msgbuf.ts';

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
  /**
   * savecore's derivation is the panic of record. When it could not run ('undetermined': symbols
   * missing or memory unreadable) that is not "no panic": messageBufferLine then shows the last
   * "panic:" line found in the message buffer, as found there.
   */
  panic: PanicInfo & { savecoreSyslog: string; verdict: PanicVerdict; messageBufferLine: string | null };
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
/** MAXHOSTNAMELEN; also enough for ostype/osrelease. */
const SHORT_STRING_MAX = 256;
const STRING_SYMBOLS = ['version', 'ostype', 'osrelease', 'hostname'] as const;

export async function buildTriageReport(view: DumpView, opts: TriageReportOptions = {}): Promise<TriageReport> {
  const syms = await lookupSymbols(view, STRING_SYMBOLS);
  const version = await stringPiece(view, syms, 'version', VERSION_MAX);
  const kernelFileVersion = await readKernelFileVersion(view);
  const boottime = await bootTimePiece(view);
  const crashTime = await crashTimePiece(view);
  const panic = await readPanicMessage(view);
  const mb = await readMessageBuffer(view);
  return {
    schema: 'kvmdump-triage/1',
    version,
    ostype: await stringPiece(view, syms, 'ostype', SHORT_STRING_MAX),
    osrelease: await stringPiece(view, syms, 'osrelease', SHORT_STRING_MAX),
    hostname: await stringPiece(view, syms, 'hostname', SHORT_STRING_MAX),
    kernelFileVersion,
    versionCheck: compareVersions(kernelFileVersion, version, view.kernelSource?.name ?? 'kernel'),
    boottime,
    crashTime,
    uptime: uptimeOf(boottime, crashTime),
    panic: {
      ...panic, savecoreSyslog: savecoreSyslogLine(panic), verdict: panicVerdict(panic),
      messageBufferLine: mb.available ? lastPanicLine(mb.text) : null,
    },
    msgbuf: summarizeMsgbuf(mb, opts.lines ?? DEFAULT_REPORT_LINES),
    physicalMemory: physicalMemoryOf(view),
    machine: machineOf(view),
    dump: dumpOf(view, opts),
  };
}

const piece = <T>(r: Read<T>): Piece<T> => (r.ok ? { value: r.value } : { notAvailable: r.reason });

// ---- strings ---------------------------------------------------------------------------------

async function stringPiece(view: DumpView, syms: SymbolTable, name: string, max: number): Promise<Piece<string>> {
  const a = syms.addr(name);
  return piece(a.ok ? await readKernelString(view, a.value, max, name) : a);
}

/** The kernel file's own `version` string (initialized .rodata, read from the ELF image). */
export async function readKernelFileVersion(view: DumpView): Promise<Piece<string>> {
  const kernel = view.kernelSource;
  if (!kernel) return { notAvailable: 'no kernel file given' };
  const a = (await lookupSymbols(view, ['version'])).addr('version');
  return piece(a.ok ? await readFileVersion(kernel, a.value) : a);
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

function timeValue(sec: number, nsec: number | null): TimeValue {
  let iso: string | null = null;
  const ms = sec * 1000 + (nsec === null ? 0 : Math.floor(nsec / 1e6));
  if (Math.abs(ms) <= 8.64e15) iso = new Date(ms).toISOString();
  return { sec, nsec, iso };
}

async function bootTimePiece(view: DumpView): Promise<Piece<TimeValue>> {
  const r = await readBootTime(view);
  return r.ok ? { value: timeValue(r.value.sec, r.value.nsec) } : { notAvailable: r.reason };
}

/** Crash time as savecore reads it; zero is no time. */
async function crashTimePiece(view: DumpView): Promise<Piece<CrashTime>> {
  const r = await readCrashTime(view);
  if (!r.ok) return { notAvailable: r.reason };
  if (r.value.sec === 0) return { notAvailable: `dump time is zero (${r.value.source})` };
  return { value: { ...timeValue(r.value.sec, null), source: r.value.source } };
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

function summarizeMsgbuf(mb: MessageBuffer, lines: number): Piece<MsgbufSummary> {
  if (!mb.available) return { notAvailable: mb.reason };
  return {
    value: {
      va: hex(mb.va), magic: hex(mb.magic), bufx: mb.bufx, bufr: mb.bufr, bufs: mb.bufs, bufcOffset: mb.bufcOffset,
      wrapped: mb.wrapped, textLength: mb.text.length, lineCount: lastLines(mb.text, Number.MAX_SAFE_INTEGER).length,
      lastLines: lastLines(mb.text, lines),
    },
  };
}

function physicalMemoryOf(view: DumpView): TriageReport['physicalMemory'] {
  const m = view.state;
  if (!m) return { notAvailable: 'no valid dump header' };
  const bytes = m.segments.reduce((n, s) => n + s.size, 0n);
  return { value: { bytes: Number(bytes), segments: m.segments.map((s) => ({ start: hex(s.start), size: hex(s.size) })) } };
}

function machineOf(view: DumpView): TriageReport['machine'] {
  const m = view.state;
  const mod = view.module;
  if (!m || !mod) return { notAvailable: 'no valid dump header' };
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.fields)) fields[k] = hex(v);
  return { value: { name: m.name, longSize: mod.longSize, pageSize: mod.pageSize, fields } };
}

function dumpOf(view: DumpView, opts: TriageReportOptions): TriageReport['dump'] {
  const format = view.isCoreFile ? 'savecore-core' : view.hasHeader ? 'dump-device' : 'unknown';
  return {
    name: opts.dumpName ?? view.dumpSource.name ?? null,
    format,
    headerOffset: view.isCoreFile ? 0 : opts.dumpOffset ?? null,
    memoryOffset: view.hasHeader ? view.dumpOff : null,
    cpuDataSize: view.cpuDataSize,
  };
}

export { formatReportText, ctimeUtc } from './report-text.ts';
