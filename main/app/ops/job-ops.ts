// Savecore export (a job with progress and cancel) and the crash summary; both call services other
// modules provide (main/app/services.ts); a build that leaves one out answers 'not-available'.

import type { OpParsedArgs } from '../../../contract/operations.ts';
import type { JobEvent, JobStarted, TriageResult } from '../../../contract/results.ts';
import { afterWrite } from '../dump-freshness.ts';
import { OpFailure } from '../dispatch.ts';
import { type HandlerContext, requireSession, withSession } from '../context.ts';

export async function startSavecoreOp(ctx: HandlerContext, a: OpParsedArgs<'startSavecore'>): Promise<JobStarted> {
  const session = requireSession(ctx, a.sessionId);
  if (!ctx.services.savecore) throw new OpFailure('not-available', 'savecore export is not part of this build');
  if (a.invalidate && !ctx.deps.allowWrite) {
    throw new OpFailure('write-not-allowed', 'invalidating the dump after export writes to the dump device; start the app with --allow-write to permit it');
  }
  const runner = await ctx.services.savecore();
  // savecore opens the dump itself (its own read-only handle), so the session stays usable meanwhile.
  const jobId = ctx.jobs.start('savecore', async (r) => {
    const outcome = await runner({
    dumpPath: session.params.dumpPath,
    kernelPath: session.params.kernelPath,
    dumpOffset: session.params.dumpOffset,
    partition: session.params.partition,
    outDir: a.outDir,
    compress: a.compress,
    invalidate: a.invalidate ?? false,
    force: a.force ?? false,
    signal: r.signal,
    onProgress: (done, total, message) => r.progress(done, total, message ?? null),
    });
    // The export cleared dumpmag through its own handle: the session's cached pages are stale now.
    const w = outcome.archive?.invalidation === 'invalidated' ? outcome.archive.invalidationWrite : undefined;
    if (w && ctx.sessions.get(session.id)) {
      await ctx.sessions.exclusive(session, () => afterWrite(ctx, session, { what: 'savecore invalidation', ...w }));
    }
    return outcome;
  });
  return { jobId };
}

export async function cancelJobOp(ctx: HandlerContext, a: OpParsedArgs<'cancelJob'>) {
  if (!ctx.jobs.cancel(a.jobId)) throw new OpFailure('not-found', `no running job with id ${a.jobId}`);
  return { cancelled: true };
}

export async function jobStatusOp(ctx: HandlerContext, a: OpParsedArgs<'jobStatus'>): Promise<JobEvent> {
  const status = ctx.jobs.status(a.jobId);
  if (!status) throw new OpFailure('not-found', `no job with id ${a.jobId} (finished jobs are kept for a while, then forgotten)`);
  return status;
}

export async function triageOp(ctx: HandlerContext, a: OpParsedArgs<'triage'>): Promise<TriageResult> {
  requireSession(ctx, a.sessionId);
  if (!ctx.services.triage) throw new OpFailure('not-available', 'the crash summary (triage) is not part of this build');
  const triage = await ctx.services.triage();
  return withSession(ctx, a.sessionId, (s) => {
    if (!s.opened.kd.hasHeader) throw new OpFailure('kvm-error', 'no valid dump header: the summary needs the dump\'s memory');
    return triage(s.opened.kd, { lines: a.lines, dumpOffset: s.params.dumpOffset ?? undefined, dumpName: s.params.dumpPath });
  });
}
