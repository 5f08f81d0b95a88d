// Views never show a mix of old and new bytes. After the workbench writes to a dump, the session's
// handle (and every cache over it) is replaced by a fresh read-only one and the write is recorded
// for the banner; a dump changed on disk by anyone else is noticed (size, modification time),
// reopened the same way, and said.

import { stat } from 'node:fs/promises';
import type { DumpWrite } from '../../contract/results.ts';
import type { HandlerContext } from './context.ts';
import type { Session } from './sessions.ts';

async function diskState(path: string): Promise<{ size: number; mtimeMs: number } | null> {
  try {
    const st = await stat(path);
    return { size: st.size, mtimeMs: st.mtimeMs };
  } catch {
    return null;
  }
}

/** Replace the session's handle with a fresh read-only one: no cached page survives. */
export async function reopenSession(ctx: HandlerContext, s: Session): Promise<void> {
  const { kernelPath, dumpPath, dumpOffset, machine, partition } = s.params;
  const fresh = await ctx.openDump({ kernelPath, dumpPath, dumpOffset: dumpOffset ?? undefined, partition: partition ?? undefined, machine: machine ?? undefined, writable: false });
  const found = s.opened.kd.namelistSource;
  if (s.opened.namelist.source === 'dump-ksyms' && found) {
    fresh.kd.useNamelist(found);
    fresh.namelist = s.opened.namelist;
  }
  const old = s.opened;
  s.opened = fresh;
  s.symbols = null;
  s.generation++;
  s.onDisk = await diskState(dumpPath);
  await old.close();
}

/** Record a write the workbench made, then reopen so every view reads what is on disk now. */
export async function afterWrite(ctx: HandlerContext, s: Session, write: Omit<DumpWrite, 'at'>): Promise<void> {
  s.writes = [...s.writes, { ...write, at: new Date().toISOString() }];
  await reopenSession(ctx, s);
}

/**
 * Whether someone else changed the dump since it was (re)opened: if so, reopen and say what
 * changed. Devices report no useful mtime, so only their size is compared.
 */
export async function checkDisk(ctx: HandlerContext, s: Session): Promise<void> {
  const now = await diskState(s.params.dumpPath);
  if (!now) return;
  if (!s.onDisk) {
    s.onDisk = now;
    return;
  }
  const what = now.size !== s.onDisk.size ? `its size changed from ${s.onDisk.size} to ${now.size} bytes`
    : now.mtimeMs !== s.onDisk.mtimeMs ? `it was modified at ${new Date(now.mtimeMs).toISOString()}` : null;
  if (!what) return;
  s.changedOnDisk = `${s.params.dumpPath} changed on disk since it was opened (${what}, not by the workbench); it was reopened and the views show it as it is now`;
  await reopenSession(ctx, s);
}
