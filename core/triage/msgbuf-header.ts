// struct kern_msgbuf (sys/sys/msgbuf.h, spec 2.6): four longs — msg_magic, msg_bufx (write index),
// msg_bufr (read index), msg_bufs (ring size) — then msg_bufc[msg_bufs]. Both savecore's
// check_kmem and dmesg -M read the header first, then the ring.

import { ByteView } from '../format/bytes.ts';
import type { DumpView } from '../layers/dump-view.ts';
import { machineWords, readExactly, type Read } from './kread.ts';

export const MSG_MAGIC = 0x063061;
/** Larger rings are refused instead of allocated: a corrupt msg_bufs must not exhaust memory. */
export const MAX_SANE_MSGBUF = 64 * 1024 * 1024;

export interface MsgbufHeader {
  magic: bigint;
  bufx: bigint;
  bufr: bigint;
  bufs: bigint;
  /** offsetof(struct kern_msgbuf, msg_bufc): 32 on LP64, 16 on ILP32. */
  bufcOffset: number;
}

export async function readMsgbufHeader(view: DumpView, msgbufVa: bigint): Promise<Read<MsgbufHeader>> {
  const { longSize, littleEndian } = machineWords(view);
  const bufcOffset = 4 * longSize;
  const r = await readExactly(view, msgbufVa, bufcOffset, 'msgbuf header');
  if (!r.ok) return r;
  const v = new ByteView(r.value, littleEndian);
  const long = (i: number) => (longSize === 8 ? v.i64(i * 8) : BigInt(v.i32(i * 4)));
  return { ok: true, value: { magic: long(0), bufx: long(1), bufr: long(2), bufs: long(3), bufcOffset } };
}

/** "msgbuf magic 0x63062 != 0x63061", or null when right. */
export function magicProblem(h: MsgbufHeader): string | null {
  return h.magic === BigInt(MSG_MAGIC) ? null : `msgbuf magic 0x${BigInt.asUintN(64, h.magic).toString(16)} != 0x${MSG_MAGIC.toString(16)}`;
}

/** msg_bufs as an allocatable size, or why savecore's malloc would fail (or we refuse). */
export function ringSizeProblem(h: MsgbufHeader): string | null {
  if (h.bufs <= 0n || h.bufs > BigInt(MAX_SANE_MSGBUF)) return `couldn't allocate space for msgbuf data (msg_bufs ${h.bufs})`;
  return null;
}

/** The msg_bufs ring bytes (savecore and dmesg both need all of them). */
export async function readRing(view: DumpView, msgbufVa: bigint, h: MsgbufHeader): Promise<Read<Uint8Array>> {
  return readExactly(view, msgbufVa + BigInt(h.bufcOffset), Number(h.bufs), 'msgbuf ring');
}
