// Open dumps, keyed by an id the renderer holds. Calls on one session run one at a time because a
// kvm handle has one error buffer: interleaved calls would report each other's kvm_geterr().

import type { ElfSymbol } from '../../core/format/elf.ts';
import type { MachineName } from '../../core/machines/machine.ts';
import type { OpenedDump } from '../session/open-dump.ts';
import { newSessionId } from './ids.ts';

export interface SessionParams {
  kernelPath: string | null;
  dumpPath: string;
  dumpOffset: number | null;
  machine: MachineName | null;
}

export interface Session {
  readonly id: string;
  readonly params: SessionParams;
  opened: OpenedDump;
  /** The kernel's symbol table, loaded on the first symbol search. */
  symbols: Promise<ElfSymbol[]> | null;
}

export class SessionRegistry {
  private readonly sessions = new Map<string, Session>();
  private readonly queues = new Map<string, Promise<unknown>>();

  add(params: SessionParams, opened: OpenedDump): Session {
    const session: Session = { id: newSessionId(), params, opened, symbols: null };
    this.sessions.set(session.id, session);
    return session;
  }

  get(id: string): Session | undefined {
    return this.sessions.get(id);
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Run fn after every earlier call on this session has finished. */
  exclusive<T>(session: Session, fn: () => Promise<T>): Promise<T> {
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
