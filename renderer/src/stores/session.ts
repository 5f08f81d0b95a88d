// The open dump: its session id and header, and opening/closing it.
import { defineStore } from 'pinia';
import type { OpError } from '../../../contract/errors.ts';
import type { OpArgs } from '../../../contract/operations.ts';
import type { HeaderInfo } from '../../../contract/results.ts';
import { api } from '../api/index.ts';

export const useSession = defineStore('session', {
  state: () => ({
    sessionId: null as string | null,
    header: null as HeaderInfo | null,
    busy: false,
    error: null as OpError | null,
  }),
  getters: {
    isOpen: (s) => s.sessionId !== null,
    canReadMemory: (s) => Boolean(s.header?.hasHeader),
  },
  actions: {
    async open(req: OpArgs<'openDump'>): Promise<boolean> {
      this.busy = true;
      this.error = null;
      try {
        const r = await api.openDump(req);
        if (!r.ok) {
          this.error = r.error;
          return false;
        }
        await this.closeQuietly();
        this.sessionId = r.value.sessionId;
        this.header = r.value.header;
        return true;
      } finally {
        this.busy = false;
      }
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
