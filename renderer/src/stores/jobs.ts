// The savecore export job: start, progress (pushed by main), cancel.
import { defineStore } from 'pinia';
import type { OpError } from '../../../contract/errors.ts';
import type { JobEvent } from '../../../contract/results.ts';
import { api } from '../api/index.ts';
import { watchJobs } from '../api/job-watch.ts';
import { useSession } from './session.ts';

export const useJobs = defineStore('jobs', {
  state: () => ({
    outDir: '',
    compress: true,
    /** Clear the dump magic after the archive is verified, as savecore(8) does (a confirmed write). */
    invalidate: false,
    /** savecore -f: save although savecore would refuse (crash time out of range, dumpmag mismatch). */
    force: false,
    /** The user has seen and accepted what invalidation does. */
    confirming: false,
    jobId: null as string | null,
    last: null as JobEvent | null,
    error: null as OpError | null,
  }),
  getters: {
    running: (s) => s.jobId !== null && (s.last === null || s.last.state === 'running'),
  },
  actions: {
    async start() {
      const s = useSession();
      if (!s.sessionId) return;
      this.error = null;
      this.last = null;
      // Listen before starting: the first events may arrive before the reply with the id.
      const watcher = watchJobs(api, (e) => {
        this.last = e;
      });
      try {
        const r = await api.startSavecore({ sessionId: s.sessionId, outDir: this.outDir, compress: this.compress, invalidate: this.invalidate, force: this.force });
        this.confirming = false;
        if (!r.ok) {
          this.error = r.error;
          return;
        }
        this.jobId = r.value.jobId;
        await watcher.follow(r.value.jobId);
        await s.refresh(); // an export that invalidated the dump changed it: views re-read
      } finally {
        watcher.close();
      }
    },
    async cancel() {
      if (this.jobId) await api.cancelJob({ jobId: this.jobId });
    },
  },
});
