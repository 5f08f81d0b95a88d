// The panic message exactly as savecore(8)'s check_kmem derives it (spec 7.4): the panic text the
// kernel logged into the message buffer between panicstart and panicend, else the string panicstr
// points at. Also the LOG_ALERT line savecore writes from it (spec 7.3 step 8).

import type { DumpView } from '../layers/dump-view.ts';
import { cString, lookupSymbols, readExactly, readLongSymbol, readPointerSymbol, type SymbolTable } from './kread.ts';
import { magicProblem, readMsgbufHeader, readRing, ringSizeProblem } from './msgbuf-header.ts';

export interface PanicInfo {
  /** The message as savecore logs it; null when there was no panic (or panicstr could not be read). */
  message: string | null;
  /** Where the message came from. */
  source: 'msgbuf' | 'panicstr' | null;
  /** Why the message buffer path was not used, and anything else that went wrong, in order. */
  reasons: string[];
}

/** The one reason that means the kernel did not panic: panicstr read as NULL. */
export const PANICSTR_NULL = 'panicstr is NULL: no panic';

/**
 * What savecore's derivation concluded: a message, no panic (panicstr read as NULL), or nothing —
 * it could not run (symbols missing, memory unreadable), which is not evidence of no panic.
 */
export type PanicVerdict = 'panic' | 'no-panic' | 'undetermined';

export function panicVerdict(info: PanicInfo): PanicVerdict {
  if (info.message !== null) return 'panic';
  return info.reasons.at(-1) === PANICSTR_NULL ? 'no-panic' : 'undetermined';
}

/** The last line of the message buffer holding "panic: " (as the kernel logs it), or null. */
export function lastPanicLine(text: string): string | null {
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) if (/(^|[\s\]])panic: /.test(lines[i])) return lines[i];
  return null;
}

/** savecore's char panic_mesg[1024]: at most 1023 characters and the NUL. */
export const PANIC_MESG_MAX = 1023;

const PANIC_SYMBOLS = ['panicstart', 'panicend', 'msgbufp', 'panicstr'] as const;

export async function readPanicMessage(view: DumpView): Promise<PanicInfo> {
  const syms = await lookupSymbols(view, PANIC_SYMBOLS);
  const reasons: string[] = [];
  const fromRing = await panicFromMsgbuf(view, syms, reasons);
  if (fromRing !== null) return { message: fromRing, source: 'msgbuf', reasons };
  const fromStr = await panicFromPanicstr(view, syms, reasons);
  return fromStr === null ? { message: null, source: null, reasons } : { message: fromStr, source: 'panicstr', reasons };
}

/** "reboot after panic: <msg>" when a message is present, else "reboot" (spec 7.3 step 8). */
export function savecoreSyslogLine(info: Pick<PanicInfo, 'message'>): string {
  return info.message === null ? 'reboot' : `reboot after panic: ${info.message}`;
}

/** The ring path; null (with a reason pushed) whenever savecore would `goto nomsgbuf`. */
async function panicFromMsgbuf(view: DumpView, syms: SymbolTable, reasons: string[]): Promise<string | null> {
  const start = await readLongSymbol(view, syms, 'panicstart');
  if (!start.ok) return fail(reasons, start.reason);
  const end = await readLongSymbol(view, syms, 'panicend');
  if (!end.ok) return fail(reasons, end.reason);
  // Both indices 0 means panic() never logged (or logged at index 0: the known blind spot).
  if (start.value === 0n || end.value === 0n) return fail(reasons, `panicstart ${start.value}, panicend ${end.value}: not both non-zero`);
  const bufp = await readPointerSymbol(view, syms, 'msgbufp');
  if (!bufp.ok) return fail(reasons, bufp.reason);
  const header = await readMsgbufHeader(view, bufp.value);
  if (!header.ok) return fail(reasons, header.reason);
  const bad = magicProblem(header.value) ?? ringSizeProblem(header.value);
  if (bad) return fail(reasons, bad);
  // C indexes bufdata[panicstart] before the first wrap test: out of range is undefined behaviour
  // there; we refuse it instead of inventing bytes.
  if (start.value < 0n || start.value >= header.value.bufs) {
    return fail(reasons, `panicstart ${start.value} outside msg_bufc[0..${header.value.bufs})`);
  }
  const ring = await readRing(view, bufp.value, header.value);
  if (!ring.ok) return fail(reasons, ring.reason);
  return panicTextFromRing(ring.value, Number(start.value), end.value);
}

/**
 * check_kmem's copy loop: from `start`, wrapping to 0 at the ring size, until the index equals
 * `end` or 1023 characters; then strlen (a NUL ends it) and one trailing newline dropped.
 */
export function panicTextFromRing(ring: Uint8Array, start: number, end: bigint): string {
  const out: number[] = [];
  let i = start;
  while (BigInt(i) !== end && out.length < PANIC_MESG_MAX) {
    out.push(ring[i]);
    i = i + 1 >= ring.length ? 0 : i + 1;
  }
  return dropOneTrailingNewline(cString(Uint8Array.from(out)));
}

function dropOneTrailingNewline(s: string): string {
  return s.endsWith('\n') ? s.slice(0, -1) : s;
}

/** The fallback: panicstr's pointer, then its bytes one at a time (a failed read stops). */
async function panicFromPanicstr(view: DumpView, syms: SymbolTable, reasons: string[]): Promise<string | null> {
  const ptr = await readPointerSymbol(view, syms, 'panicstr');
  if (!ptr.ok) return fail(reasons, ptr.reason);
  if (ptr.value === 0n) return fail(reasons, PANICSTR_NULL);
  const bytes: number[] = [];
  for (let at = ptr.value; bytes.length < PANIC_MESG_MAX; at++) {
    const r = await readExactly(view, at, 1, 'panicstr byte');
    if (!r.ok) {
      reasons.push(r.reason);
      break;
    }
    if (r.value[0] === 0) break;
    bytes.push(r.value[0]);
  }
  return cString(Uint8Array.from(bytes));
}

function fail(reasons: string[], reason: string): null {
  reasons.push(reason);
  return null;
}
