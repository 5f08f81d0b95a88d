// Long-running work (savecore export) the renderer starts, watches and may cancel. Each job has an
// AbortController; progress goes to every subscriber (Electron window, serve-mode event streams).

import type { JobEvent } from '../../contract/results.ts';
import { newJobId } from './ids.ts';

export type JobListener = (event: JobEvent) => void;

export interface JobReporter {
  readonly signal: AbortSignal;
  progress(done: number, total: number, message?: string | null): void;
}

export class JobRegistry {
  private readonly running = new Map<string, AbortController>();
  private readonly listeners = new Set<JobListener>();

  subscribe(listener: JobListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Start work in the background; its promise's result ends the job. */
  start(kind: JobEvent['kind'], work: (r: JobReporter) => Promise<{ outputs: string[]; message?: string; scan?: JobEvent['scan'] }>): string {
    const jobId = newJobId();
    const ctl = new AbortController();
    this.running.set(jobId, ctl);
    const emit = (e: Omit<JobEvent, 'jobId' | 'kind'>) => {
      for (const l of this.listeners) l({ jobId, kind, ...e });
    };
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
        (r) => emit({ state: 'done', ...last, message: r.message ?? null, outputs: r.outputs, ...(r.scan ? { scan: r.scan } : {}) }),
        (e: unknown) => emit({
          state: ctl.signal.aborted ? 'cancelled' : 'failed', ...last,
          message: ctl.signal.aborted ? 'cancelled' : e instanceof Error ? e.message : String(e), outputs: [],
        }),
      ).finally(() => this.running.delete(jobId));
    });
    return jobId;
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
