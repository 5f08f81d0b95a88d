// Symbol search results.
import { defineStore } from 'pinia';
import type { SymbolInfo } from '../../../contract/results.ts';
import { api } from '../api/index.ts';
import { useSession } from './session.ts';

export const useSymbols = defineStore('symbols', {
  state: () => ({ query: '', results: [] as SymbolInfo[], total: 0, error: null as string | null, loading: false }),
  actions: {
    async search() {
      const s = useSession();
      if (!s.sessionId) return;
      this.loading = true;
      try {
        const r = await api.symbolSearch({ sessionId: s.sessionId, query: this.query, limit: 200 });
        if (r.ok) {
          this.results = r.value.symbols;
          this.total = r.value.total;
          this.error = null;
        } else this.error = r.error.message;
      } finally {
        this.loading = false;
      }
    },
  },
});
