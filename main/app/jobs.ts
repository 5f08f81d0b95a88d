// Long-running work (savecore export, scan) the renderer starts, watches and may cancel. Each job
// has an AbortController; progress goes to every subscriber (Electron window, serve-mode event
// streams). The latest event of every job is also kept, because pushed events can overtake the
// reply that names the job (serve mode: the event stream and the POST are separate connections)
// or be lost while a stream reconnects; a client asks jobStatus to catch up.

import type { JobEvent } from '../../contract/results.ts';
import { OpFailure } from './dispatch.ts';
import { newJobId } from './ids.ts';

export type JobListener = (event: JobEvent) => void;

/** What a job's work resolves to: files written, a message, and its kind's result. */
export type JobOutcome = { outputs: string[]; message?: string } & Pick<JobEvent, 'scan' | 'archive' | 'opened' | 'find'>;

export interface JobReporter {
  readonly signal: AbortSignal;
  progress(done: number, total: number, message?: string | null): void;
}

/** Finished jobs whose last event stays available to jobStatus (oldest dropped first). */
const FINISHED_KEPT = 64;

export class JobRegistry {
  private readonly running = new Map<string, AbortController>();
  private readonly listeners = new Set<JobListener>();
  /** Latest event per job; insertion order doubles as age for dropping finished ones. */
  private readonly latest = new Map<string, JobEvent>();

  subscribe(listener: JobListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Start work in the background; its promise's result ends the job. */
  start(kind: JobEvent['kind'], work: (r: JobReporter) => Promise<JobOutcome>): string {
    const jobId = newJobId();
    const ctl = new AbortController();
    this.running.set(jobId, ctl);
    const emit = (e: Omit<JobEvent, 'jobId' | 'kind'>) => {
      const event: JobEvent = { jobId, kind, ...e };
      this.remember(event);
      for (const l of this.listeners) l(event);
    };
    this.latest.set(jobId, { jobId, kind, state: 'running', done: 0, total: 0, message: null, outputs: [] });
    let last = { done: 0, total: 0 };
    const reporter: JobReporter = {
      signal: ctl.signal,
      progress: (done, total, message = null) => {
        last = { done, total };
        emit({ state: 'running', done, total, message, outputs: [] });
      },
    };
    // Started on the next tick so the caller has the id before the first event arrives.
    setImmediate(() => {
      work(reporter).then(
        // Finished is 100%, whatever the last progress event said.
        ({ outputs, message, ...result }) => emit({ state: 'done', done: last.total, total: last.total, message: message ?? null, outputs, ...result }),
        (e: unknown) => emit({
          state: ctl.signal.aborted ? 'cancelled' : 'failed', ...last,
          message: ctl.signal.aborted ? 'cancelled' : e instanceof Error ? e.message : String(e), outputs: [],
          ...(!ctl.signal.aborted && e instanceof OpFailure ? { errorCode: e.code } : {}),
        }),
      ).finally(() => this.running.delete(jobId));
    });
    return jobId;
  }

  /** The latest event of a running or recently finished job, or null for an unknown id. */
  status(jobId: string): JobEvent | null {
    return this.latest.get(jobId) ?? null;
  }

  private remember(event: JobEvent): void {
    this.latest.set(event.jobId, event);
    if (event.state === 'running') return;
    let finished = 0;
    for (const e of this.latest.values()) if (e.state !== 'running') finished++;
    for (const [id, e] of this.latest) {
      if (finished <= FINISHED_KEPT) break;
      if (e.state !== 'running') {
        this.latest.delete(id);
        finished--;
      }
    }
  }

  cancel(jobId: string): boolean {
    const ctl = this.running.get(jobId);
    if (!ctl) return false;
    ctl.abort();
    return true;
  }

  cancelAll(): void {
    for (const ctl of this.running.values()) ctl.abort();
  }
}
