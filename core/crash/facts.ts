// The crash facts savecore's checks and the triage report both state — crash time, boot time, the
// kernel's version string — each with one reader and one rule, so the two never disagree on the
// same dump. Also ctime(3) formatting, once.

import { ByteView } from '../format/bytes.ts';
import { readElfVirtual } from '../format/elf.ts';
import type { DumpView } from '../layers/dump-view.ts';
import type { DumpSource } from '../source.ts';
import { cString, lookupSymbols, readExactly, type Read } from './kread.ts';

/** savecore's char vers[1024] with a NUL forced at 1023 (spec 7.3 step 2.7, 7.4). */
export const VERSION_MAX = 1024;
/** time_t is 64-bit on every supported flavour (NetBSD >= 6, i386 included). */
const TIME_T_SIZE = 8;

// ---- strings -----------------------------------------------------------------------------------

/**
 * A char[] variable: up to its NUL or max - 1 bytes, read page by page so an unmapped page after
 * the NUL does not matter; decoded as UTF-8. A page that faults before the NUL fails the read.
 */
export async function readKernelString(view: DumpView, va: bigint, max: number, what: string): Promise<Read<string>> {
  const page = BigInt(view.pageSize);
  const parts: Uint8Array[] = [];
  let have = 0;
  let at = va;
  while (have < max) {
    const chunk = Math.min(max - have, Number(page - (at % page)));
    const r = await readExactly(view, at, chunk, what);
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

/** The dump's `version` string (the crashed kernel's), by the savecore rule: 1023 bytes at most. */
export async function readVersion(view: DumpView): Promise<Read<string>> {
  const a = (await lookupSymbols(view, ['version'])).addr('version');
  return a.ok ? readKernelString(view, a.value, VERSION_MAX, 'version') : a;
}

/**
 * The kernel file's own `version` (its initialized .rodata), by the same rule: 1024 bytes, fewer
 * when the string sits near the end of a loaded segment.
 */
export async function readKernelFileVersion(kernel: DumpSource, va: bigint): Promise<Read<string>> {
  for (let len = VERSION_MAX; len >= 1; len >>= 1) {
    const b = await readElfVirtual(kernel, va, len).catch(() => null);
    if (b) return { ok: true, value: cString(b.subarray(0, VERSION_MAX - 1)) };
  }
  return { ok: false, reason: `version at 0x${va.toString(16)} is not in the kernel file's loaded segments` };
}

// ---- times -------------------------------------------------------------------------------------

export interface CrashTimeFact {
  /** Seconds since the epoch; 0 means the kernel never set the clock ("dump time is zero"). */
  sec: number;
  /** time_second, or the old kernels' `struct timeval time` (spec 7.3 step 9). */
  source: 'time_second' | 'time';
}

/** savecore's get_crashtime (spec 7.3 step 9): time_second, else `time`'s tv_sec. */
export async function readCrashTime(view: DumpView): Promise<Read<CrashTimeFact>> {
  const syms = await lookupSymbols(view, ['time_second', 'time']);
  const first = await readTimeT(view, syms.addr('time_second'), TIME_T_SIZE, 'time_second');
  if (first.ok) return { ok: true, value: { sec: first.value.sec, source: 'time_second' } };
  // struct timeval: time_t tv_sec, suseconds_t (int) tv_usec, padded to 8 on LP64.
  const second = await readTimeT(view, syms.addr('time'), view.longSize === 8 ? 16 : 12, 'time');
  if (second.ok) return { ok: true, value: { sec: second.value.sec, source: 'time' } };
  return { ok: false, reason: `${first.reason} (and time: ${second.reason})` };
}

export interface BootTimeFact {
  sec: number;
  nsec: number;
}

/** struct timespec boottime: time_t tv_sec, long tv_nsec. */
export async function readBootTime(view: DumpView): Promise<Read<BootTimeFact>> {
  const syms = await lookupSymbols(view, ['boottime']);
  const r = await readTimeT(view, syms.addr('boottime'), TIME_T_SIZE + view.longSize, 'boottime');
  if (!r.ok) return r;
  const nsec = view.longSize === 8 ? r.value.rest.i64(8) : BigInt(r.value.rest.i32(8));
  return { ok: true, value: { sec: r.value.sec, nsec: Number(nsec) } };
}

async function readTimeT(view: DumpView, addr: Read<bigint>, size: number, what: string): Promise<Read<{ sec: number; rest: ByteView }>> {
  if (!addr.ok) return addr;
  const r = await readExactly(view, addr.value, size, what);
  if (!r.ok) return r;
  const v = new ByteView(r.value, view.littleEndian);
  return { ok: true, value: { sec: Number(v.i64(0)), rest: v } };
}

// ---- ctime -------------------------------------------------------------------------------------

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * ctime(3)'s layout without its newline: "Thu Jan  2 00:04:13 2025", in the host's local time
 * (what savecore logs) or UTC (the report, which must not depend on where it is read).
 * Seconds Date cannot show print as "@<sec>".
 */
export function ctime(sec: number, zone: 'local' | 'utc'): string {
  const d = new Date(sec * 1000);
  if (Number.isNaN(d.getTime())) return `@${sec}`;
  const utc = zone === 'utc';
  const two = (n: number) => String(n).padStart(2, '0');
  const [day, month, date, h, m, s, year] = utc
    ? [d.getUTCDay(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCFullYear()]
    : [d.getDay(), d.getMonth(), d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds(), d.getFullYear()];
  return `${DAYS[day]} ${MONTHS[month]} ${String(date).padStart(2, ' ')} ${two(h)}:${two(m)}:${two(s)} ${year}`;
}
