// What every operation implementation may use: the open sessions, jobs, recent list, settings.

import type { DeviceList, JobEvent } from '../../contract/results.ts';
import type { openDump } from '../session/open-dump.ts';
import { OpFailure } from './dispatch.ts';
import type { JobRegistry } from './jobs.ts';
import type { RecentFiles } from './recent.ts';
import type { BookmarkStore } from './bookmarks.ts';
import type { OptionalServices } from './services.ts';
import type { Session, SessionLimits, SessionRegistry } from './sessions.ts';

/** Native dialogs (Electron only). null path = the user cancelled. */
export interface Dialogs {
  pickFile(opts: { title?: string; filters?: { name: string; extensions: string[] }[] }): Promise<string | null>;
  pickSaveFile(opts: { title?: string; defaultPath?: string; directory?: boolean }): Promise<string | null>;
}

export interface HandlerDeps {
  mode: 'electron' | 'serve';
  /** Where recent.json lives (Electron: app.getPath('userData')). */
  userDataDir: string;
  /** App-level permission to write to dumps; inval also needs confirm: true. */
  allowWrite: boolean;
  dialogs?: Dialogs | null;
  /** Replaceable for tests. */
  openDump?: typeof openDump;
  listDevices?: () => Promise<DeviceList>;
  services?: OptionalServices;
  version?: string;
  platform?: NodeJS.Platform;
  onInternalError?: (op: string, e: unknown) => void;
  /** Bounds on open dumps (tests shrink them). */
  sessionLimits?: SessionLimits;
}

export interface HandlerContext {
  deps: HandlerDeps;
  sessions: SessionRegistry;
  jobs: JobRegistry;
  recent: RecentFiles;
  bookmarks: BookmarkStore;
  services: OptionalServices;
  openDump: typeof openDump;
  /** Set by the start-up code once it has opened the command-line or sample dump. */
  startup: { initialSessionId: string | null; startupMessage: string | null };
  emitJobEvent?: (e: JobEvent) => void;
}

export function requireSession(ctx: HandlerContext, id: string): Session {
  const s = ctx.sessions.get(id);
  if (!s) throw new OpFailure('not-found', `no open dump with id ${id} (it was closed, or the app restarted)`);
  return s;
}

/** Run fn on a session with exclusive use of its kvm handle. */
export function withSession<T>(ctx: HandlerContext, id: string, fn: (s: Session) => Promise<T>): Promise<T> {
  const s = requireSession(ctx, id);
  return ctx.sessions.exclusive(s, () => fn(s));
}
