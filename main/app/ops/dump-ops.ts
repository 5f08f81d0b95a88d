// Opening, inspecting and closing dumps: openDump, closeDump, header, mkheader, scan.

import { scanForDumps } from '../../../core/scan.ts';
import type { OpParsedArgs } from '../../../contract/operations.ts';
import type { OpenDumpResult, ScanResult } from '../../../contract/results.ts';
import { OpenError } from '../../session/open-dump.ts';
import { openSource } from '../../sources/node-source.ts';
import { OpFailure } from '../dispatch.ts';
import { faultInfo } from '../fault.ts';
import { headerInfo } from '../header-info.ts';
import { isPermissionError, permissionMessage } from '../permissions.ts';
import { type HandlerContext, requireSession, withSession } from '../context.ts';

/** An open failure as the contract reports it: permission problems get instructions. */
export function openFailure(path: string, e: unknown): OpFailure {
  if (isPermissionError(e)) return new OpFailure('permission-denied', permissionMessage(path, e));
  if (e instanceof OpenError) return new OpFailure('open-error', e.message);
  return new OpFailure('open-error', `${path}: ${e instanceof Error ? e.message : String(e)}`);
}

export async function openDumpOp(ctx: HandlerContext, a: OpParsedArgs<'openDump'>): Promise<OpenDumpResult> {
  const params = { kernelPath: a.kernelPath ?? null, dumpPath: a.dumpPath, dumpOffset: a.dumpOffset ?? null, machine: a.machine ?? null };
  let opened;
  try {
    // Always read-only: the one write (inval) reopens the dump for that call alone.
    opened = await ctx.openDump({ kernelPath: a.kernelPath, dumpPath: a.dumpPath, dumpOffset: a.dumpOffset, machine: a.machine, writable: false });
  } catch (e) {
    throw openFailure(a.dumpPath, e);
  }
  const session = ctx.sessions.add(params, opened);
  await ctx.recent.remember(params).catch(() => undefined); // a read-only home directory must not block opening
  return { sessionId: session.id, header: headerInfo(session) };
}

export async function headerOp(ctx: HandlerContext, a: OpParsedArgs<'header'>) {
  return withSession(ctx, a.sessionId, async (s) => headerInfo(s));
}

export async function mkheaderOp(ctx: HandlerContext, a: OpParsedArgs<'mkheader'>) {
  return withSession(ctx, a.sessionId, async (s) => {
    const before = s.opened.kd.lastFault;
    const result = await s.opened.kd.mkheader(a.dumpOffset);
    const after = s.opened.kd.lastFault;
    if (result > 0) s.opened.mkheader = result;
    return { result, error: s.opened.kd.geterr(), fault: after !== before ? faultInfo(after) : null, header: headerInfo(s) };
  });
}

export async function closeDumpOp(ctx: HandlerContext, a: OpParsedArgs<'closeDump'>) {
  requireSession(ctx, a.sessionId);
  return { closed: await ctx.sessions.close(a.sessionId) };
}

export async function scanOp(_ctx: HandlerContext, a: OpParsedArgs<'scan'>): Promise<ScanResult> {
  let src;
  try {
    src = await openSource(a.path);
  } catch (e) {
    throw openFailure(a.path, e);
  }
  try {
    return { path: a.path, candidates: await scanForDumps(src) };
  } finally {
    await src.close?.();
  }
}
