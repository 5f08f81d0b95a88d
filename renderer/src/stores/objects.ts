// What was running when it crashed: the debug kernel path (from the Open view) and the object
// listings read through it, per kind, for the open session.
import { defineStore } from 'pinia';
import type { KernelObjectsResult } from '../../../contract/results.ts';
import { api } from '../api/index.ts';
import { useSession } from './session.ts';

export type ObjectKind = KernelObjectsResult['kind'];

export const useObjects = defineStore('objects', {
  state: () => ({
    debugPath: '',
    /** The session the cached results belong to. */
    sessionId: null as string | null,
    results: {} as Partial<Record<ObjectKind, KernelObjectsResult>>,
    errors: {} as Partial<Record<ObjectKind, string>>,
    loading: {} as Partial<Record<ObjectKind, boolean>>,
  }),
  actions: {
    async load<K extends ObjectKind>(kind: K, force = false): Promise<Extract<KernelObjectsResult, { kind: K }> | null> {
      const s = useSession();
      if (!s.sessionId) return null;
      if (this.sessionId !== s.sessionId) {
        this.sessionId = s.sessionId;
        this.results = {};
        this.errors = {};
      }
      if (!force && this.results[kind]) return this.results[kind] as Extract<KernelObjectsResult, { kind: K }>;
      this.loading[kind] = true;
      try {
        const debugPath = this.debugPath.trim();
        const r = await api.kernelObjects({ sessionId: s.sessionId, kind, ...(debugPath ? { debugPath } : {}) });
        if (r.ok) {
          this.results[kind] = r.value;
          delete this.errors[kind];
          return r.value as Extract<KernelObjectsResult, { kind: K }>;
        }
        this.errors[kind] = r.error.message;
        return null;
      } finally {
        this.loading[kind] = false;
      }
    },
  },
});
