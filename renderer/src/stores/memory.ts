// The Memory view: which address space it shows, where it is looking, the selection, go-to,
// Back/Forward history and the providers that read each space through main's strict layers.
import { defineStore } from 'pinia';
import { api } from '../api/index.ts';
import { SpaceProvider, type Space } from '../memory/space-provider.ts';
import { parseHex, toWire } from '../util/format.ts';
import { useSession } from './session.ts';

export const ROWS_PER_SCREEN = 24;
export const SPACES: { name: Space; label: string }[] = [
  { name: 'virtual', label: 'Kernel virtual' },
  { name: 'physical', label: 'Physical' },
  { name: 'file', label: 'Dump file' },
];

export interface Place {
  space: Space;
  address: bigint;
}

// Outside the reactive state: providers are caches with identity, not data to watch deeply.
let providers: { sessionId: string; generation: number; bySpace: Map<Space, SpaceProvider> } | null = null;

const HISTORY_MAX = 100;

/** The symbol's st_size, to highlight all of it (1 when unknown, capped to a screen). */
async function symbolSize(sessionId: string, name: string): Promise<number> {
  const r = await api.symbolSearch({ sessionId, query: name, limit: 1 });
  const sym = r.ok ? r.value.symbols.find((x) => x.name === name) : undefined;
  return Math.min(Math.max(sym?.size ?? 1, 1), 384);
}

export const useMemory = defineStore('memory', {
  state: () => ({
    space: 'virtual' as Space,
    top: 0n,
    cursor: 0n,
    /** The other end of the selection (Shift+arrows, drag), or null when nothing is selected. */
    anchor: null as bigint | null,
    gotoText: '',
    gotoError: null as string | null,
    /** Why the last space switch or step could not keep/find the place. */
    notice: null as string | null,
    /** What the address the user went to resolved from (a symbol name, or null for a raw address). */
    target: null as { label: string; address: bigint; length: number } | null,
    back: [] as Place[],
    forward: [] as Place[],
    /** The cursor each space had when last left, to come back to when a place has no twin there. */
    lastIn: {} as Partial<Record<Space, string>>,
    /** Bumped to ask the view to focus the go-to box or the find box (Ctrl+G / Ctrl+F from any view). */
    focusRequest: { what: '' as '' | 'goto' | 'find', n: 0 },
  }),
  getters: {
    selection(state): { start: bigint; length: number } | null {
      if (state.anchor === null) return null;
      const lo = state.anchor < state.cursor ? state.anchor : state.cursor;
      const hi = state.anchor < state.cursor ? state.cursor : state.anchor;
      return { start: lo, length: Number(hi - lo + 1n) };
    },
  },
  actions: {
    limitOf(space: Space): bigint {
      const h = useSession().header;
      if (!h) return 0n;
      if (space === 'file') return BigInt(h.dumpSize);
      if (space === 'physical') return h.machine === 'i386' ? 1n << 32n : 1n << 64n;
      return 1n << BigInt((h.longSize ?? 8) * 8);
    },
    ensureProvider(which?: Space): SpaceProvider | null {
      const space: Space = which ?? this.space;
      const s = useSession();
      const h = s.header;
      if (!s.sessionId || !h) return null;
      if (space !== 'file' && (!h.hasHeader || !h.pageSize)) return null;
      // A new generation (main reopened the dump after a write or a change on disk): no cached row survives.
      if (providers?.sessionId !== s.sessionId || providers.generation !== h.generation) {
        providers = { sessionId: s.sessionId, generation: h.generation, bySpace: new Map() };
      }
      let p = providers.bySpace.get(space);
      if (!p) providers.bySpace.set(space, (p = new SpaceProvider(api, s.sessionId, space, this.limitOf(space))));
      return p;
    },
    /** Move to a place, remembering where we were (Alt+← comes back). */
    jump(to: Place, opts: { record?: boolean } = {}) {
      if (opts.record !== false) {
        this.back.push({ space: this.space, address: this.cursor });
        if (this.back.length > HISTORY_MAX) this.back.shift();
        this.forward = [];
      }
      this.lastIn[this.space] = this.cursor.toString();
      this.space = to.space;
      this.cursor = to.address;
      this.anchor = null;
      this.top = to.address - (to.address % 16n);
    },
    goBack() {
      const p = this.back.pop();
      if (!p) return;
      this.forward.push({ space: this.space, address: this.cursor });
      this.jump(p, { record: false });
    },
    goForward() {
      const p = this.forward.pop();
      if (!p) return;
      this.back.push({ space: this.space, address: this.cursor });
      this.jump(p, { record: false });
    },
    /** Show another space with the cursor on the same byte (VA ↔ PA ↔ file offset). */
    async switchSpace(to: Space): Promise<boolean> {
      this.notice = null;
      if (to === this.space) return true;
      const s = useSession();
      if (!s.sessionId) return false;
      const r = await api.locate({ sessionId: s.sessionId, space: this.space, address: toWire(this.cursor) });
      if (!r.ok) {
        this.notice = r.error.message;
        return false;
      }
      const there = to === 'virtual' ? r.value.virtual : to === 'physical' ? r.value.physical : r.value.file === null ? null : toWire(BigInt(r.value.file));
      if (there === null) {
        // Still show the space asked for, at the place it had, and say why the byte has no twin there.
        const back = BigInt(this.lastIn[to] ?? '0');
        this.notice = `0x${this.cursor.toString(16)} has no ${to === 'virtual' ? 'kernel VA' : to === 'physical' ? 'physical address' : 'place in the dump file'}: ${r.value.note ?? 'not mapped'}; showing 0x${back.toString(16)}, where this space was last`;
        this.jump({ space: to, address: back });
        return false;
      }
      this.jump({ space: to, address: BigInt(there) });
      return true;
    },
    /** "0xffff…", "dumpmag", "dumpmag+0x10": returns true when the address was found. */
    /**
     * `ready` (the session's refresh) runs beside the symbol lookup and is awaited before the jump,
     * so the rows are read only once a dump changed on disk has been reopened.
     */
    async goto(text: string, ready?: Promise<unknown>): Promise<boolean> {
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
      const length = 1;
      let space = this.space;
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
        space = 'virtual'; // a symbol is a kernel VA
        // Its size (to highlight all of it) arrives after the jump: the rows do not wait for it.
        const sid = s.sessionId;
        const at = address + offset;
        if (!m[2]) {
          void symbolSize(sid, e.name).then((n) => {
            if (this.target?.address === at) this.target = { ...this.target, length: n };
          });
        }
      }
      address += offset;
      if (address >= this.limitOf(space)) {
        this.gotoError = `0x${address.toString(16)} is past the end of this space (0x${this.limitOf(space).toString(16)})`;
        return false;
      }
      await ready;
      this.target = { label: m[2] ? `${label}+${m[2]}` : label, address, length };
      this.jump({ space, address });
      return true;
    },
    requestFocus(what: 'goto' | 'find') {
      this.focusRequest = { what, n: this.focusRequest.n + 1 };
    },
  },
});
