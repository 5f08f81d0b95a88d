// The savecore export job: start, progress (pushed by main), cancel.
import { defineStore } from 'pinia';
import type { OpError } from '../../../contract/errors.ts';
import type { JobEvent } from '../../../contract/results.ts';
import { api } from '../api/index.ts';
import { useSession } from './session.ts';

export const useJobs = defineStore('jobs', {
  state: () => ({
    outDir: '',
    compress: true,
    /** Clear the dump magic after the archive is verified, as savecore(8) does (a confirmed write). */
    invalidate: false,
    /** The user has seen and accepted what invalidation does. */
    confirming: false,
    jobId: null as string | null,
    last: null as JobEvent | null,
    error: null as OpError | null,
    subscribed: false,
  }),
  getters: {
    running: (s) => s.jobId !== null && (s.last === null || s.last.state === 'running'),
  },
  actions: {
    subscribe() {
      if (this.subscribed) return;
      this.subscribed = true;
      api.onJobEvent((e) => {
        if (e.jobId === this.jobId) this.last = e;
      });
    },
    async start() {
      const s = useSession();
      if (!s.sessionId) return;
      this.subscribe();
      this.error = null;
      this.last = null;
      const r = await api.startSavecore({ sessionId: s.sessionId, outDir: this.outDir, compress: this.compress, invalidate: this.invalidate });
      this.confirming = false;
      if (r.ok) this.jobId = r.value.jobId;
      else this.error = r.error;
    },
    async cancel() {
      if (this.jobId) await api.cancelJob({ jobId: this.jobId });
    },
  },
});
