// Opening, inspecting and closing dumps: openDump, closeDump, header, mkheader, scan.

import { scanForDumps, type ScanOptions } from '../../../core/scan.ts';
import { openScanSource } from '../../session/scan-source.ts';
import type { OpenedDump } from '../../session/open-dump.ts';
import { checkDisk } from '../dump-freshness.ts';
import type { OpParsedArgs } from '../../../contract/operations.ts';
import type { JobStarted, OpenDumpResult, ScanResult } from '../../../contract/results.ts';
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

/**
 * How much physical memory opening a dump without a kernel file searches for the kernel's ksyms
 * table (it sits in the kernel's .bss, low in memory): bounded so opening never turns into a scan.
 */
export const SYMBOL_SEARCH_LIMIT = 1 << 30;

export async function openDumpOp(ctx: HandlerContext, a: OpParsedArgs<'openDump'>, progress?: OpenProgress): Promise<OpenDumpResult> {
  const params = { kernelPath: a.kernelPath ?? null, dumpPath: a.dumpPath, dumpOffset: a.dumpOffset ?? null, machine: a.machine ?? null, partition: a.partition ?? null };
  let opened;
  try {
    // Always read-only: the one write (inval) reopens the dump for that call alone.
    opened = await ctx.openDump({
      kernelPath: a.kernelPath, dumpPath: a.dumpPath, dumpOffset: a.dumpOffset, partition: a.partition, machine: a.machine, writable: false,
      symbolsFromDump: { limitBytes: SYMBOL_SEARCH_LIMIT, ...(progress ? { onProgress: progress.onSymbolSearch } : {}) },
      ...(progress ? { onIndexProgress: progress.onIndex, signal: progress.signal } : {}),
    });
  } catch (e) {
    if (progress?.signal.aborted) throw e;
    throw openFailure(a.dumpPath, e);
  }
  if (progress?.signal.aborted) {
    await opened.close(); // cancelled at the last moment: no session behind the user's back
    throw new Error('cancelled');
  }
  const session = ctx.sessions.add(params, opened);
  await checkDisk(ctx, session); // remembers the size and mtime it was opened with
  // Recent lists what opened for real: a header found, and the kernel file (when given) usable.
  const usable = opened.kd.hasHeader && (!a.kernelPath || (await kernelUsable(opened)));
  if (usable) await ctx.recent.remember(params).catch(() => undefined); // a read-only home directory must not block opening
  return { sessionId: session.id, header: headerInfo(session) };
}

/** The kernel file given reads as a namelist (a JSON file or the dump itself given as kernel does not). */
async function kernelUsable(opened: OpenedDump): Promise<boolean> {
  return (await opened.kd.nlist(['_dumpmag'])).result !== -1;
}

interface OpenProgress {
  signal: AbortSignal;
  onIndex(done: number, total: number): void;
  onSymbolSearch(done: number, total: number): void;
}

/**
 * Opening as a job: a multi-GiB compressed core is indexed in one pass, and a dump without a kernel
 * file is searched for its ksyms; both report progress and can be cancelled. The job's end carries
 * the session, exactly what openDump returns; a failure carries openDump's error text.
 */
export async function startOpenOp(ctx: HandlerContext, a: OpParsedArgs<'startOpen'>): Promise<JobStarted> {
  const jobId = ctx.jobs.start('open', async (r) => {
    let lastReport = 0;
    const report = (what: string) => (done: number, total: number) => {
      const now = Date.now();
      if (now - lastReport < PROGRESS_INTERVAL_MS && done < total) return;
      lastReport = now;
      r.progress(done, total, what);
    };
    // A failure keeps openDump's code and text (permission-denied says how to get access).
    const opened = await openDumpOp(ctx, a, {
      signal: r.signal, onIndex: report('indexing the compressed core'), onSymbolSearch: report('looking for the kernel\'s symbols (ksyms) in the dump'),
    });
    return { outputs: [], message: 'opened', opened };
  });
  return { jobId };
}

export async function headerOp(ctx: HandlerContext, a: OpParsedArgs<'header'>) {
  return withSession(ctx, a.sessionId, async (s) => {
    await checkDisk(ctx, s);
    return headerInfo(s);
  });
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

export async function scanOp(_ctx: HandlerContext, a: OpParsedArgs<'scan'>, signal?: AbortSignal): Promise<ScanResult> {
  return scanPath(a.path, signal ? { signal } : {});
}

/** Scan a device or image for dump headers (read-only), with optional progress and cancel. */
export async function scanPath(path: string, opts: ScanOptions & { onIndexProgress?: (done: number, total: number) => void } = {}): Promise<ScanResult> {
  let src;
  try {
    src = await openScanSource(path, { signal: opts.signal, onIndexProgress: opts.onIndexProgress });
  } catch (e) {
    throw openFailure(path, e);
  }
  try {
    return { path, candidates: await scanForDumps(src.source, opts) };
  } finally {
    await src.close();
  }
}

const PROGRESS_INTERVAL_MS = 100;

export async function startScanOp(ctx: HandlerContext, a: OpParsedArgs<'startScan'>): Promise<JobStarted> {
  // A path that cannot be opened is answered now, not as a failed job.
  const probe = await openSource(a.path).catch((e: unknown) => {
    throw openFailure(a.path, e);
  });
  await probe.close();
  const jobId = ctx.jobs.start('scan', async (r) => {
    let lastReport = 0;
    const scan = await scanPath(a.path, {
      signal: r.signal,
      onIndexProgress: (done, total) => r.progress(done, total, `indexing the compressed image: ${done} of ${total} bytes read`),
      onProgress: (done, total) => {
        const now = Date.now();
        if (now - lastReport < PROGRESS_INTERVAL_MS && done < total) return; // a disk is many chunks
        lastReport = now;
        r.progress(done, total, `scanned ${done} of ${total || '?'} bytes`);
      },
    });
    const n = scan.candidates.length;
    return { outputs: [], scan, message: n === 0 ? 'no dump header found' : `${n} dump header${n === 1 ? '' : 's'} found` };
  });
  return { jobId };
}
