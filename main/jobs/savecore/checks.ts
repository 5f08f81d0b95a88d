// savecore's decisions about the dump (spec 7.2–7.4), each returning what savecore would log and
// whether it lets the save go ahead. Values come from the dump through the strict layers (a value is
// the dump's memory or a reason, never bytes from past the memory data); crash time and the version
// strings through core/crash/facts.ts, the same readers the triage report uses. The reference
// dumpmag and version come from the kernel image file itself (standing in for the running kernel
// savecore reads through /dev/kmem).

import { promises as fsp } from 'node:fs';
import { errnoOf, strerror } from '../../../core/errno.ts';
import { ByteView } from '../../../core/format/bytes.ts';
import { readElfVirtual } from '../../../core/format/elf.ts';
import { ctime as ctimeText, readCrashTime, readKernelFileVersion, readKernelString, VERSION_MAX } from '../../../core/crash/facts.ts';
import { readWord } from '../../../core/crash/kread.ts';
import type { DumpView } from '../../../core/layers/dump-view.ts';
import type { DumpSource } from '../../../core/source.ts';
import type { LogPriority } from './events.ts';
import { readMinfree } from './bounds.ts';

export interface LogLine {
  priority: LogPriority;
  message: string;
}

/** The dump kernel's list (spec 7.2), in savecore's index order, with its leading underscores. */
export const DUMP_SYMBOLS = [
  '_time_second', '_time', '_dumpsize', '_version', '_dumpmag', '_panicstr', '_panicstart', '_panicend', '_msgbufp',
  '_ksyms_symsz', '_ksyms_strsz', '_ksyms_hdr', '_ksyms_symtabs',
] as const;
/** Symbols without which nothing can be saved; the others are recorded as missing. */
export const REQUIRED_SYMBOLS = ['_dumpsize', '_version', '_dumpmag'] as const;

export interface SymbolLookup {
  /** name without the underscore → address (only symbols found with a non-zero value). */
  values: Map<string, bigint>;
  missingOptional: string[];
  /** The first required symbol missing (savecore exits at the first), or null. */
  missingRequired: string | null;
  log: LogLine[];
}

/** nlist the dump symbols; "<kernel>: <name> not in namelist" for a required one (spec 7.2). */
export async function lookupDumpSymbols(view: DumpView, kernelName: string): Promise<SymbolLookup> {
  const log: LogLine[] = [];
  const nl = await view.nlist([...DUMP_SYMBOLS]);
  if (nl.result === -1) log.push({ priority: 'err', message: `${kernelName}: kvm_nlist: ${nl.error}` });
  const values = new Map<string, bigint>();
  DUMP_SYMBOLS.forEach((name, i) => {
    const e = nl.entries[i];
    if (nl.result !== -1 && e?.found && e.value !== 0n) values.set(name.slice(1), e.value);
  });
  const missing = (n: string) => !values.has(n.slice(1));
  const missingRequired = REQUIRED_SYMBOLS.find(missing) ?? null;
  if (missingRequired) log.push({ priority: 'err', message: `${kernelName}: ${missingRequired} not in namelist` });
  const missingOptional = DUMP_SYMBOLS.filter((n) => missing(n) && !(REQUIRED_SYMBOLS as readonly string[]).includes(n)).map((n) => n.slice(1));
  return { values, missingOptional, missingRequired, log };
}

/** KREAD of a 4-byte variable through the strict layers: its value, or why it could not be read. */
async function kread32(view: DumpView, syms: SymbolLookup, name: string, signed: boolean): Promise<bigint | string> {
  const va = syms.values.get(name);
  if (va === undefined) return `symbol ${name} not in namelist`;
  const r = await readWord(view, va, 4, signed, name);
  return r.ok ? r.value : r.reason;
}

export interface DumpPresence {
  present: boolean;
  dumpmag: number | null;
  referenceDumpmag: number | null;
  dumpsizePages: number | null;
  /** dumpsize × page size, 64-bit (spec 9.4). */
  dumpbytes: number;
  /** The reference dumpmag could not be read from the kernel file: savecore exits 1. */
  fatal: boolean;
  log: LogLine[];
}

/** The value every NetBSD port initialises dumpmag with ("magic number for savecore"). */
export const NETBSD_DUMPMAG = 0x8fca0101;

/**
 * dump_exists (spec 7.3 step 4): the dump's dumpmag against the kernel file's (NetBSD's constant
 * when there is no kernel file: the symbols then came from the dump itself), and dumpsize.
 */
export async function dumpExists(
  view: DumpView, kernel: DumpSource | null, syms: SymbolLookup, pageSize: number, verbose: boolean,
): Promise<DumpPresence> {
  const log: LogLine[] = [];
  const magVa = syms.values.get('dumpmag')!;
  const refBytes = kernel ? await readElfVirtual(kernel, magVa, 4) : null;
  if (kernel && !refBytes) {
    log.push({ priority: 'err', message: `kvm_read: ${kernel.name}: dumpmag (0x${magVa.toString(16)}) is not in the kernel file's loaded data` });
    return { present: false, dumpmag: null, referenceDumpmag: null, dumpsizePages: null, dumpbytes: 0, fatal: true, log };
  }
  const reference = refBytes ? new ByteView(refBytes, view.littleEndian).u32(0) : NETBSD_DUMPMAG;
  const result: DumpPresence = { present: false, dumpmag: null, referenceDumpmag: reference, dumpsizePages: null, dumpbytes: 0, fatal: false, log };
  const mag = await kread32(view, syms, 'dumpmag', false);
  if (typeof mag === 'string') {
    log.push({ priority: 'warning', message: `kvm_read: ${mag}` });
    return result;
  }
  result.dumpmag = Number(mag);
  const size = await kread32(view, syms, 'dumpsize', true);
  if (typeof size === 'string') {
    log.push({ priority: 'warning', message: `kvm_read: ${size}` });
    return result;
  }
  result.dumpsizePages = Number(size);
  result.dumpbytes = result.dumpsizePages * pageSize; // computed before the magic test so -f can use it
  if (result.dumpmag !== reference) {
    if (verbose) log.push({ priority: 'warning', message: `magic number mismatch (0x${result.dumpmag.toString(16)} != 0x${reference.toString(16)})` });
    log.push({ priority: 'warning', message: 'no core dump' });
    return result;
  }
  result.present = true;
  return result;
}

export interface VersionCheck {
  running: string;
  dump: string;
  mismatch: boolean;
  log: LogLine[];
}

/**
 * check_kmem's version comparison (spec 7.4); read errors are ignored, as savecore does. Without a
 * kernel file there is nothing to compare with: the dump's own version stands for both.
 */
export async function compareVersions(view: DumpView, kernel: DumpSource | null, syms: SymbolLookup, kernelName: string): Promise<VersionCheck> {
  const va = syms.values.get('version')!;
  const dumpRead = await readKernelString(view, va, VERSION_MAX, 'version');
  const dump = dumpRead.ok ? dumpRead.value : '';
  const fileRead = kernel ? await readKernelFileVersion(kernel, va) : null;
  const running = fileRead === null ? dump : fileRead.ok ? fileRead.value : '';
  const mismatch = running !== dump;
  const log: LogLine[] = mismatch
    ? [{ priority: 'warning', message: `warning: ${kernelName} version mismatch:\n\t${running}\nand\t${dump}\n` }]
    : [];
  return { running, dump, mismatch, log };
}

/** savecore's LEEWAY: 60 days. */
export const LEEWAY = 60 * 24 * 60 * 60;

export interface CrashTime {
  ok: boolean;
  /** Seconds since the epoch, or null when unreadable. */
  time: number | null;
  source: 'time_second' | 'time' | null;
  log: LogLine[];
}

/** get_crashtime (spec 7.3 step 9), read by the one crash-time reader (core/crash/facts.ts). */
export async function crashTime(view: DumpView, now: number): Promise<CrashTime> {
  const log: LogLine[] = [];
  const r = await readCrashTime(view);
  if (!r.ok) {
    log.push({ priority: 'warning', message: `kvm_read: ${r.reason} (and _time_second is not defined also)` });
    return { ok: false, time: null, source: null, log };
  }
  const { sec: t, source } = r.value;
  if (t === 0) {
    log.push({ priority: 'warning', message: 'dump time is zero' });
    return { ok: false, time: 0, source, log };
  }
  log.push({ priority: 'info', message: `system went down at ${ctime(t)}` });
  if (t < now - LEEWAY || t > now + LEEWAY) {
    log.push({ priority: 'warning', message: 'dump time is unreasonable' });
    return { ok: false, time: t, source, log };
  }
  return { ok: true, time: t, source, log };
}

/** ctime(3) in local time with its newline: "Wed Nov 18 12:53:20 2026\n". */
export function ctime(seconds: number): string {
  return `${ctimeText(seconds, 'local')}\n`;
}

export interface SpaceCheck {
  ok: boolean;
  /** statfs failed: savecore exits 1 even with -f. */
  fatal: boolean;
  spaceFreeKiB: number;
  neededKiB: number;
  minfreeKiB: number;
  log: LogLine[];
}

/** check_space (spec 7.3 step 10). Without a minfree file it never refuses. */
export async function checkSpace(directory: string, kernelPath: string | null, dumpbytes: number): Promise<SpaceCheck> {
  const log: LogLine[] = [];
  let kernelSize = 20 * 1024 * 1024;
  if (kernelPath) {
    try {
      kernelSize = Number((await fsp.stat(kernelPath, { bigint: true })).blocks) * 512;
    } catch {
      /* savecore keeps its 20 MiB guess */
    }
  }
  let spaceFree: number;
  try {
    const st = await fsp.statfs(directory);
    spaceFree = Math.floor((st.bavail * st.bsize) / 1024);
  } catch (e) {
    log.push({ priority: 'err', message: `${directory}: ${strerror(errnoOf(e))}` });
    return { ok: false, fatal: true, spaceFreeKiB: 0, neededKiB: 0, minfreeKiB: 0, log };
  }
  const minfree = await readMinfree(directory);
  const needed = Math.floor((dumpbytes + kernelSize) / 1024);
  const base = { fatal: false, spaceFreeKiB: spaceFree, neededKiB: needed, minfreeKiB: minfree };
  if (minfree > 0 && spaceFree - needed < minfree) {
    log.push({ priority: 'warning', message: `no dump, not enough free space in ${directory}` });
    return { ok: false, ...base, log };
  }
  if (spaceFree - needed < minfree) log.push({ priority: 'warning', message: 'dump performed, but free space threshold crossed' });
  return { ok: true, ...base, log };
}
