// Reading the crashed kernel's memory: read (kvm_read), kvatop, nlist. A read that stops early
// says where and why (unmapped page, end of dump, I/O error): the hex viewer shows a fault there,
// never zeros.

import type { Kvm, KvmFault } from '../../../core/kvm.ts';
import { toHex } from '../../../core/format/bytes.ts';
import type { OpParsedArgs } from '../../../contract/operations.ts';
import type { FaultInfo } from '../../../contract/errors.ts';
import type { KvatopResult, NlistResultInfo, ReadResult } from '../../../contract/results.ts';
import { toHexAddress } from '../../../contract/values.ts';
import { OpFailure } from '../dispatch.ts';
import { faultInfo } from '../fault.ts';
import { type HandlerContext, withSession } from '../context.ts';
import { checkDisk } from '../dump-freshness.ts';

function requireHeader(kd: Kvm): void {
  if (!kd.hasHeader) {
    throw new OpFailure('kvm-error', 'no valid dump header: give the dump offset (or use Scan to find it) before reading memory');
  }
}

/** The fault recorded by the call just made, not one left over from an earlier call. */
function freshFault(kd: Kvm, before: KvmFault | null): KvmFault | null {
  const after = kd.lastFault;
  return after !== before ? after : null;
}

export async function readOp(ctx: HandlerContext, a: OpParsedArgs<'read'>): Promise<ReadResult> {
  return withSession(ctx, a.sessionId, async (s) => {
    await checkDisk(ctx, s); // never serve cached bytes of a dump that changed on disk
    const { kd } = s.opened;
    requireHeader(kd);
    const va = BigInt.asUintN(kd.longSize * 8, BigInt(a.va));
    const buf = new Uint8Array(a.length);
    const before = kd.lastFault;
    const result = await kd.read(va, buf);
    const fault = freshFault(kd, before);
    const error = fault ? kd.geterr() : ''; // kvm_geterr() keeps old text after a success: report this call only
    if (result === a.length) return { va: toHexAddress(va), length: a.length, result, data: toHex(buf), fault: null, stop: null, error };
    let valid: number;
    let stop: ReadResult['stop'];
    let info: FaultInfo | null;
    if (result < 0) {
      // kvm_read's -1 loses the partial count; the fault's va tells how far the copy got.
      const at = fault?.va ?? va;
      valid = Math.min(a.length, Number(BigInt.asUintN(kd.longSize * 8, at - va)));
      stop = 'unmapped';
      info = { ...faultInfo(fault)!, va: toHexAddress(at), reason: await walkReason(kd, at) };
    } else {
      valid = result;
      const at = toHexAddress(BigInt.asUintN(kd.longSize * 8, va + BigInt(result)));
      stop = fault ? 'io' : 'eof';
      info = fault ? { ...faultInfo(fault)!, va: at } : { message: 'the dump ends before this address', op: 'read', va: at };
    }
    return { va: toHexAddress(va), length: a.length, result, data: toHex(buf.subarray(0, valid)), fault: info, stop, error };
  });
}

/** Why a VA has no translation, in the page-table walk's words (kvm_read only says "_kvm_kvatop(va)"). */
async function walkReason(kd: Kvm, va: bigint): Promise<string> {
  const tr = await kd.kvatop(va);
  return tr.cc === 0 ? kd.geterr() : 'translation succeeded on retry';
}

export async function kvatopOp(ctx: HandlerContext, a: OpParsedArgs<'kvatop'>): Promise<KvatopResult> {
  return withSession(ctx, a.sessionId, async ({ opened: { kd } }) => {
    const before = kd.lastFault;
    const tr = await kd.kvatop(BigInt(a.va));
    const ok = tr.cc > 0;
    return {
      va: a.va.toLowerCase(),
      cc: tr.cc,
      pa: ok ? toHexAddress(tr.pa) : null,
      fileOffset: ok ? kd.pa2off(tr.pa) : null,
      error: ok ? '' : kd.geterr(),
      fault: ok ? null : faultInfo(freshFault(kd, before)),
    };
  });
}

export async function nlistOp(ctx: HandlerContext, a: OpParsedArgs<'nlist'>): Promise<NlistResultInfo> {
  return withSession(ctx, a.sessionId, async ({ opened: { kd } }) => {
    const nl = await kd.nlist(a.names);
    return {
      result: nl.result,
      entries: nl.entries.map((e) => ({ name: e.name, found: e.found, type: e.type, value: toHexAddress(e.value) })),
      error: nl.result === -1 ? kd.geterr() : '',
      reason: nl.reason ?? null,
    };
  });
}
