// The memory view: where it is looking, the provider that reads through translation, and go-to.
import { defineStore } from 'pinia';
import { api } from '../api/index.ts';
import { KvmMemoryProvider } from '../memory/kvm-provider.ts';
import { parseHex } from '../util/format.ts';
import { useSession } from './session.ts';

export const ROWS_PER_SCREEN = 24;

// Outside the reactive state: the provider is a cache with identity, not data to watch deeply.
let provider: { sessionId: string; generation: number; value: KvmMemoryProvider } | null = null;

/** The symbol's st_size, to highlight all of it (1 when unknown, capped to a screen). */
async function symbolSize(sessionId: string, name: string): Promise<number> {
  const r = await api.symbolSearch({ sessionId, query: name, limit: 1 });
  const sym = r.ok ? r.value.symbols.find((x) => x.name === name) : undefined;
  return Math.min(Math.max(sym?.size ?? 1, 1), 384);
}

export const useMemory = defineStore('memory', {
  state: () => ({
    top: 0n,
    cursor: 0n,
    gotoText: '',
    gotoError: null as string | null,
    /** What the address the user went to resolved from (a symbol name, or null for a raw address). */
    target: null as { label: string; address: bigint; length: number } | null,
  }),
  actions: {
    ensureProvider(): KvmMemoryProvider | null {
      const s = useSession();
      const h = s.header;
      if (!s.sessionId || !h?.hasHeader || !h.pageSize) return null;
      // A new generation (main reopened the dump after a write or a change on disk): no cached row survives.
      if (provider?.sessionId !== s.sessionId || provider.generation !== h.generation) {
        provider = { sessionId: s.sessionId, generation: h.generation, value: new KvmMemoryProvider(api, s.sessionId, h.pageSize, (h.longSize ?? 8) * 8) };
      }
      return provider.value;
    },
    /** "0xffff…", "dumpmag", "dumpmag+0x10": returns true when the address was found. */
    async goto(text: string): Promise<boolean> {
      this.gotoError = null;
      const s = useSession();
      const m = /^\s*([^+\s]+)\s*(?:\+\s*(\S+))?\s*$/.exec(text);
      if (!m || !s.sessionId) {
        this.gotoError = 'type an address (0x…) or a symbol name';
        return false;
      }
      const offset = m[2] ? parseHex(m[2]) : 0n;
      if (offset === null) {
        this.gotoError = `${m[2]}: not a hex offset`;
        return false;
      }
      let address = /^0x/i.test(m[1]!) ? parseHex(m[1]!) : null;
      let label = m[1]!;
      let length = 1;
      if (address === null) {
        const r = await api.nlist({ sessionId: s.sessionId, names: [m[1]!] });
        if (!r.ok) {
          this.gotoError = r.error.message;
          return false;
        }
        const e = r.value.entries[0];
        if (r.value.result === -1 || !e?.found) {
          this.gotoError = r.value.result === -1 ? `symbols unavailable: ${r.value.error} ${r.value.reason ?? ''}` : `${m[1]}: no such symbol in the kernel`;
          return false;
        }
        address = BigInt(e.value);
        label = e.name;
        length = await symbolSize(s.sessionId, e.name);
      }
      address += offset;
      this.target = { label: m[2] ? `${label}+${m[2]}` : label, address, length: m[2] ? 1 : length };
      this.cursor = address;
      this.top = address - (address % 16n);
      return true;
    },
  },
});
