// Following one job to its end without losing events. Pushed job events can arrive before the
// reply that names the job (serve mode sends them on a separate connection) or be missed while
// the event stream (re)connects, so the watcher listens before the job starts, keeps what it hears
// for ids it does not know yet, and asks jobStatus now and then until the job has ended.

import type { KvmdumpApi } from '../../../contract/client.ts';
import type { JobEvent } from '../../../contract/results.ts';

/** How often to ask for the job's state in case a pushed event was missed. */
export const JOB_POLL_MS = 1000;

export interface JobWatcher {
  /** Resolves with the job's final event (done, failed or cancelled); onEvent sees every newer event. */
  follow(jobId: string): Promise<JobEvent>;
  /** Stop listening; a pending follow() stays pending. */
  close(): void;
}

type WatchApi = Pick<KvmdumpApi, 'onJobEvent' | 'jobStatus'>;

/** Start listening now (before starting the job), then follow() the id the start call returns. */
export function watchJobs(api: WatchApi, onEvent: (e: JobEvent) => void, pollMs = JOB_POLL_MS): JobWatcher {
  const early = new Map<string, JobEvent>();
  let target: { jobId: string; last: JobEvent | null; resolve: (e: JobEvent) => void } | null = null;
  let timer: ReturnType<typeof setInterval> | null = null;
  let closed = false;

  const stopPolling = () => {
    if (timer !== null) clearInterval(timer);
    timer = null;
  };
  /** Take an event for the followed job unless it is older than one already seen. */
  const accept = (e: JobEvent) => {
    if (!target || e.jobId !== target.jobId) return;
    const last = target.last;
    if (last && last.state !== 'running') return;
    if (last && e.state === 'running' && e.done < last.done) return;
    target.last = e;
    onEvent(e);
    if (e.state !== 'running') {
      stopPolling();
      target.resolve(e);
    }
  };
  const unsubscribe = api.onJobEvent((e) => {
    if (target && e.jobId === target.jobId) accept(e);
    else if (!target) early.set(e.jobId, e);
  });

  return {
    follow(jobId) {
      return new Promise<JobEvent>((resolve) => {
        target = { jobId, last: null, resolve };
        const heard = early.get(jobId);
        early.clear();
        if (heard) accept(heard);
        if (target.last && target.last.state !== 'running') return; // it ended before we asked
        const poll = async () => {
          const r = await api.jobStatus({ jobId });
          if (!closed && r.ok) accept(r.value);
        };
        timer = setInterval(() => void poll(), pollMs);
        void poll();
      });
    },
    close() {
      closed = true;
      stopPolling();
      unsubscribe();
    },
  };
}
