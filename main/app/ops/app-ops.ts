// App-level operations: app info, devices, recent files and the native dialogs.

import type { OpParsedArgs } from '../../../contract/operations.ts';
import type { AppInfo, PickedPath } from '../../../contract/results.ts';
import { listDevices } from '../devices.ts';
import { withSurveys } from './disk-ops.ts';
import { OpFailure } from '../dispatch.ts';
import type { HandlerContext } from '../context.ts';

export async function appInfoOp(ctx: HandlerContext): Promise<AppInfo> {
  return {
    mode: ctx.deps.mode,
    platform: ctx.deps.platform ?? process.platform,
    allowWrite: ctx.deps.allowWrite,
    dialogs: Boolean(ctx.deps.dialogs),
    initialSessionId: ctx.startup.initialSessionId,
    startupMessage: ctx.startup.startupMessage,
    version: ctx.deps.version ?? '0.0.0',
  };
}

/** The devices, each readable whole disk expanded into its partitions with the dumps found in them. */
export async function listDevicesOp(ctx: HandlerContext) {
  return withSurveys(await (ctx.deps.listDevices ?? listDevices)());
}

export async function listRecentOp(ctx: HandlerContext) {
  return { recent: await ctx.recent.listChecked() };
}

export async function forgetRecentOp(ctx: HandlerContext, a: { dumpPath: string; kernelPath: string | null; dumpOffset: number | null }) {
  await ctx.recent.forget(a);
  return { recent: await ctx.recent.listChecked() };
}

function dialogs(ctx: HandlerContext) {
  if (!ctx.deps.dialogs) throw new OpFailure('not-available', 'native file dialogs exist only in the desktop app; type the path instead');
  return ctx.deps.dialogs;
}

export async function pickFileOp(ctx: HandlerContext, a: OpParsedArgs<'pickFile'>): Promise<PickedPath> {
  return { path: await dialogs(ctx).pickFile(a) };
}

export async function pickSaveFileOp(ctx: HandlerContext, a: OpParsedArgs<'pickSaveFile'>): Promise<PickedPath> {
  return { path: await dialogs(ctx).pickSaveFile(a) };
}
