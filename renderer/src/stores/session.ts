// The open dump: its session id and header, and opening/closing it.
import { defineStore } from 'pinia';
import type { OpError } from '../../../contract/errors.ts';
import type { OpArgs } from '../../../contract/operations.ts';
import type { HeaderInfo, JobEvent } from '../../../contract/results.ts';
import { api } from '../api/index.ts';
import { watchJobs } from '../api/job-watch.ts';

export const useSession = defineStore('session', {
  state: () => ({
    sessionId: null as string | null,
    header: null as HeaderInfo | null,
    busy: false,
    error: null as OpError | null,
    /** The open job's id and last progress (indexing a compressed core, searching for symbols). */
    openJob: null as string | null,
    openProgress: null as JobEvent | null,
    /** Something the user should know about the session (it was reopened after a reload). */
    notice: null as string | null,
  }),
  getters: {
    isOpen: (s) => s.sessionId !== null,
    canReadMemory: (s) => Boolean(s.header?.hasHeader),
  },
  actions: {
    /** Open as a job (progress and cancel for a large compressed core); true once the session is ours. */
    async open(req: OpArgs<'startOpen'>): Promise<boolean> {
      this.busy = true;
      this.error = null;
      this.openProgress = null;
      const watcher = watchJobs(api, (e) => {
        this.openProgress = e;
      });
      try {
        const r = await api.startOpen(req);
        if (!r.ok) {
          this.error = r.error;
          return false;
        }
        this.openJob = r.value.jobId;
        const end = await watcher.follow(r.value.jobId);
        if (end.state !== 'done' || !end.opened) {
          if (end.state === 'failed') this.error = { code: end.errorCode ?? 'open-error', message: end.message ?? 'the dump could not be opened' };
          return false;
        }
        await this.closeQuietly();
        this.sessionId = end.opened.sessionId;
        this.header = end.opened.header;
        return true;
      } finally {
        watcher.close();
        this.busy = false;
        this.openJob = null;
      }
    },
    async cancelOpen() {
      if (this.openJob) await api.cancelJob({ jobId: this.openJob });
    },
    /** Take over a session main opened at start-up. */
    async adopt(sessionId: string): Promise<boolean> {
      const r = await api.header({ sessionId });
      if (!r.ok) {
        this.error = r.error;
        return false;
      }
      this.sessionId = sessionId;
      this.header = r.value;
      return true;
    },
    /** Ask main for the header again: after a write or a change on disk it has a new generation. */
    async refresh() {
      if (!this.sessionId) return;
      const r = await api.header({ sessionId: this.sessionId });
      if (r.ok) this.header = r.value;
    },
    async mkheader(dumpOffset: number) {
      if (!this.sessionId) return null;
      const r = await api.mkheader({ sessionId: this.sessionId, dumpOffset });
      if (!r.ok) {
        this.error = r.error;
        return null;
      }
      this.header = r.value.header;
      return r.value;
    },
    async closeQuietly() {
      if (this.sessionId) await api.closeDump({ sessionId: this.sessionId });
      this.sessionId = null;
      this.header = null;
    },
  },
});
