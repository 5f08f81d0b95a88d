// The kernel message buffer as `dmesg -M core -N kernel` reads it: msgbufp, the kern_msgbuf header
// (spec 2.6, four longs then msg_bufc[]), then the ring from msg_bufx once round with NUL bytes
// skipped — the oldest surviving byte first. No reformatting (no syslog-priority stripping).

import type { DumpView } from '../layers/dump-view.ts';
import { lookupSymbols, readPointerSymbol, type Read } from './kread.ts';
import { magicProblem, readMsgbufHeader, readRing, ringSizeProblem, type MsgbufHeader } from './msgbuf-header.ts';
import { utf8Decode } from '../format/utf8.ts';

export interface MessageBufferAvailable {
  available: true;
  /** The address msgbufp holds. */
  va: bigint;
  magic: number;
  bufx: number;
  bufr: number;
  bufs: number;
  bufcOffset: number;
  /** The buffer in reading order, NUL bytes skipped. */
  text: string;
  /**
   * The writer has reached the end of the ring at least once. (A log of exactly msg_bufs bytes
   * looks the same as one that wrapped; the dump cannot tell them apart.)
   */
  wrapped: boolean;
}

export interface MessageBufferUnavailable {
  available: false;
  reason: string;
}

export type MessageBuffer = MessageBufferAvailable | MessageBufferUnavailable;

export async function readMessageBuffer(view: DumpView): Promise<MessageBuffer> {
  const syms = await lookupSymbols(view, ['msgbufp']);
  const bufp = await readPointerSymbol(view, syms, 'msgbufp');
  if (!bufp.ok) return unavailable(bufp.reason);
  const header = await readMsgbufHeader(view, bufp.value);
  if (!header.ok) return unavailable(header.reason);
  const bad = magicProblem(header.value) ?? ringSizeProblem(header.value);
  if (bad) return unavailable(bad);
  const ring: Read<Uint8Array> = await readRing(view, bufp.value, header.value);
  if (!ring.ok) return unavailable(ring.reason);
  return describeRing(bufp.value, header.value, ring.value);
}

function describeRing(va: bigint, h: MsgbufHeader, ring: Uint8Array): MessageBufferAvailable {
  const start = readingStart(h.bufx, ring.length);
  return {
    available: true, va, magic: Number(h.magic), bufx: Number(h.bufx), bufr: Number(h.bufr), bufs: ring.length,
    bufcOffset: h.bufcOffset, text: ringText(ring, start), wrapped: lastByteWritten(ring),
  };
}

/** dmesg starts at msg_bufx, or at 0 when msg_bufx is out of range. */
export function readingStart(bufx: bigint, bufs: number): number {
  return bufx < 0n || bufx >= BigInt(bufs) ? 0 : Number(bufx);
}

/** Once round from `start`, NUL bytes skipped. */
export function ringText(ring: Uint8Array, start: number): string {
  const ordered = new Uint8Array(ring.length);
  ordered.set(ring.subarray(start), 0);
  ordered.set(ring.subarray(0, start), ring.length - start);
  return utf8Decode(ordered.filter((b) => b !== 0));
}

/** The ring's last byte holds data only once the writer has reached the end (logs carry no NULs). */
function lastByteWritten(ring: Uint8Array): boolean {
  return ring.length > 0 && ring[ring.length - 1] !== 0;
}

/** The last n lines of the text (a final unterminated line counts). */
export function lastLines(text: string, n: number): string[] {
  if (n <= 0 || text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.slice(-n);
}

function unavailable(reason: string): MessageBufferUnavailable {
  return { available: false, reason };
}
