// libkvm's own answers for the app: _kvm_kvatop's cc/pa with kvm_geterr() text, and kvm_nlist.
// The file offset shown with a translation comes from the strict physical layer: a PA in no
// segment has none (libkvm's pa2off would name the end of the memory data).

import type { OpParsedArgs } from '../../../contract/operations.ts';
import type { KvatopResult, NlistResultInfo } from '../../../contract/results.ts';
import { toHexAddress } from '../../../contract/values.ts';
import type { FaultInfo } from '../../../contract/errors.ts';
import type { MemoryLayers } from '../../../core/layers/index.ts';
import { type HandlerContext, withSession } from '../context.ts';
import { sessionLayers } from './memory-ops.ts';

export async function kvatopOp(ctx: HandlerContext, a: OpParsedArgs<'kvatop'>): Promise<KvatopResult> {
  return withSession(ctx, a.sessionId, async (s) => {
    const kd = s.opened.kd;
    const tr = await kd.kvatop(BigInt(a.va));
    const ok = tr.cc > 0;
    const layers = sessionLayers(s);
    return {
      va: a.va.toLowerCase(),
      cc: tr.cc,
      pa: ok ? toHexAddress(tr.pa) : null,
      fileOffset: ok ? layers.physical.fileOffset(tr.pa) : null,
      error: ok ? '' : kd.geterr(),
      // Where and why, from the strict walk (libkvm's errbuf may hold an older message: aarch64's bad granule sets none).
      fault: ok ? null : await strictFault(layers, BigInt(a.va)),
    };
  });
}

async function strictFault(layers: MemoryLayers, va: bigint): Promise<FaultInfo> {
  const tr = await layers.virtual.translate(BigInt.asUintN(layers.virtual.pointerSize * 8, va));
  const reason = tr.ok ? 'libkvm found no translation' : tr.reason;
  return { message: reason, op: 'kvatop', va: toHexAddress(va), reason };
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
