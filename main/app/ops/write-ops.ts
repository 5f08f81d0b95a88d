// The operations that put bytes on disk: wrtheader (a new core-file header, never over the evidence)
// and inval (kvm_dump_inval: zeroes dumpmag on the dump device; app-level write permission and an
// explicit confirm are both required, and only this call opens the dump writable).

import { createNewFile, RefusedOutput } from '../../fs/new-file.ts';
import type { OpParsedArgs } from '../../../contract/operations.ts';
import type { InvalResult, WrtheaderResult } from '../../../contract/results.ts';
import { OpFailure } from '../dispatch.ts';
import { faultInfo } from '../fault.ts';
import type { HandlerContext } from '../context.ts';
import { withSession } from '../context.ts';
import type { Session } from '../sessions.ts';
import { openFailure } from './dump-ops.ts';
import { afterWrite, reopenSession } from '../dump-freshness.ts';
import type { OpenedDump } from '../../session/open-dump.ts';

export async function wrtheaderOp(ctx: HandlerContext, a: OpParsedArgs<'wrtheader'>): Promise<WrtheaderResult> {
  return withSession(ctx, a.sessionId, async (s) => {
    let file;
    try {
      file = await createNewFile(a.outPath, [s.params.dumpPath, s.params.kernelPath]);
    } catch (e) {
      if (e instanceof RefusedOutput) throw new OpFailure('bad-request', e.message);
      throw openFailure(a.outPath, e);
    }
    const kd = s.opened.kd;
    const before = kd.lastFault;
    let written = 0;
    let result: number;
    try {
      result = await kd.wrtheader({
        write: async (chunk) => {
          await file.write(chunk, 0, chunk.length, written);
          written += chunk.length;
        },
      }, a.dumpsize);
      await file.sync();
    } finally {
      await file.close();
    }
    const after = kd.lastFault;
    return { result, error: kd.geterr(), fault: after !== before ? faultInfo(after) : null, outPath: a.outPath, bytesWritten: written };
  });
}

export async function invalOp(ctx: HandlerContext, a: OpParsedArgs<'inval'>): Promise<InvalResult> {
  return withSession(ctx, a.sessionId, async (s) => {
    const { kernelPath, dumpPath, dumpOffset, machine, partition } = s.params;
    let writable;
    try {
      writable = await ctx.openDump({ kernelPath, dumpPath, dumpOffset: dumpOffset ?? undefined, partition: partition ?? undefined, machine: machine ?? undefined, writable: true });
    } catch (e) {
      throw openFailure(dumpPath, e);
    }
    keepNamelist(s, writable);
    let out: InvalResult;
    try {
      const kd = writable.kd;
      const result = await kd.inval();
      out = { result, error: kd.geterr(), fault: result < 0 ? faultInfo(kd.lastFault) : null, offset: kd.lastInval?.offset ?? null, length: kd.lastInval?.length ?? null };
    } finally {
      await writable.close();
    }
    // Drop every cached page that still holds the old dumpmag, and say what was written.
    if (out.result === 0 && out.offset !== null && out.length !== null) await afterWrite(ctx, s, { what: 'kvm_dump_inval', offset: out.offset, length: out.length });
    else await reopenSession(ctx, s);
    return out;
  });
}

/** Symbols the session found in the dump serve a second handle on it too (no second search). */
function keepNamelist(s: Session, other: OpenedDump): void {
  const found = s.opened.kd.namelistSource;
  if (s.opened.namelist.source !== 'dump-ksyms' || !found) return;
  other.kd.useNamelist(found);
  other.namelist = s.opened.namelist;
}
