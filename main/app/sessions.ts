// Open dumps, keyed by an id the renderer holds. Calls on one session run one at a time because a
// kvm handle has one error buffer: interleaved calls would report each other's kvm_geterr().

import type { ElfSymbol } from '../../core/format/elf.ts';
import type { MachineName } from '../../core/machines/machine.ts';
import type { OpenedDump } from '../session/open-dump.ts';
import type { DumpWrite } from '../../contract/results.ts';
import { newSessionId } from './ids.ts';

export interface SessionParams {
  kernelPath: string | null;
  dumpPath: string;
  dumpOffset: number | null;
  machine: MachineName | null;
  /** The partition of dumpPath that is the dump device (dumpOffset relative to it), or null. */
  partition: string | null;
}

export interface Session {
  readonly id: string;
  readonly params: SessionParams;
  opened: OpenedDump;
  /** The kernel's symbol table, loaded on the first symbol search. */
  symbols: Promise<ElfSymbol[]> | null;
  /** Date.now() of the last call on it: idle sessions are closed. */
  lastUsed: number;
  /** Reopens so far (HeaderInfo.generation). */
  generation: number;
  writes: DumpWrite[];
  /** The dump's size and mtime when (re)opened, to notice changes made by anyone else. */
  onDisk: { size: number; mtimeMs: number } | null;
  changedOnDisk: string | null;
}

export interface SessionLimits {
  /** Open dumps at most; opening one more closes the least recently used (default 16). */
  maxSessions?: number;
  /** A session unused this long is closed (default 30 minutes). */
  idleMs?: number;
  now?: () => number;
}

/**
 * Every session holds descriptors on a dump and a kernel: a renderer that opens dump after dump
 * (or a client that never closes) must not exhaust them, so the registry is bounded and sessions
 * left idle are closed. A closed session's id answers 'no such session', and the renderer reopens.
 */
export class SessionRegistry {
  private readonly sessions = new Map<string, Session>();
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly maxSessions: number;
  private readonly idleMs: number;
  private readonly now: () => number;

  constructor(limits: SessionLimits = {}) {
    this.maxSessions = limits.maxSessions ?? 16;
    this.idleMs = limits.idleMs ?? 30 * 60_000;
    this.now = limits.now ?? Date.now;
  }

  add(params: SessionParams, opened: OpenedDump): Session {
    this.closeIdle();
    while (this.sessions.size >= this.maxSessions) {
      const oldest = [...this.sessions.values()].reduce((a, b) => (b.lastUsed < a.lastUsed ? b : a));
      void this.close(oldest.id);
    }
    const session: Session = { id: newSessionId(), params, opened, symbols: null, lastUsed: this.now(), generation: 0, writes: [], onDisk: null, changedOnDisk: null };
    this.sessions.set(session.id, session);
    return session;
  }

  get(id: string): Session | undefined {
    this.closeIdle();
    const s = this.sessions.get(id);
    if (s) s.lastUsed = this.now();
    return s;
  }

  /** Close sessions idle for longer than the limit (checked whenever the registry is used). */
  private closeIdle(): void {
    const limit = this.now() - this.idleMs;
    for (const s of this.sessions.values()) if (s.lastUsed < limit) void this.close(s.id);
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Run fn after every earlier call on this session has finished. */
  exclusive<T>(session: Session, fn: () => Promise<T>): Promise<T> {
    session.lastUsed = this.now();
    const prev = this.queues.get(session.id) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    this.queues.set(session.id, next.catch(() => undefined));
    return next;
  }

  async close(id: string): Promise<boolean> {
    const s = this.sessions.get(id);
    if (!s) return false;
    this.sessions.delete(id);
    await this.exclusive(s, () => s.opened.close());
    this.queues.delete(id);
    return true;
  }

  /** On app exit: close every dump (file handles on devices must not outlive the app). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.sessions.keys()].map((id) => this.close(id)));
  }
}
