// A reload (Ctrl+R, a renderer crash, F5 in serve mode) must not lose the dump: the open session,
// the view and the memory cursor are kept in sessionStorage. At start-up the renderer asks main
// for that session; one main no longer holds is reopened from its parameters, or the reason shown.

import { watch } from 'vue';
import type { OpError } from '../../../contract/errors.ts';
import type { OpArgs } from '../../../contract/operations.ts';
import { useMemory } from './memory.ts';
import { useSession } from './session.ts';
import { useUi, VIEWS, type ViewName } from './ui.ts';

const KEY = 'kvmdump-workbench/state';

interface Saved {
  sessionId: string;
  params: OpArgs<'startOpen'>;
  view: ViewName;
  cursor: string;
  top: string;
  space?: 'virtual' | 'physical' | 'file';
}

function load(): Saved | null {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as Saved | null;
    return s && typeof s.sessionId === 'string' && s.params?.dumpPath ? s : null;
  } catch {
    return null;
  }
}

/** Keep the state in sessionStorage as it changes. */
export function keepState(): void {
  const session = useSession();
  const ui = useUi();
  const mem = useMemory();
  watch([() => session.sessionId, () => session.header, () => ui.view, () => mem.cursor, () => mem.top, () => mem.space], () => {
    const h = session.header;
    if (!session.sessionId || !h) {
      sessionStorage.removeItem(KEY);
      return;
    }
    const params: OpArgs<'startOpen'> = {
      dumpPath: h.dumpPath,
      ...(h.kernelPath ? { kernelPath: h.kernelPath } : {}),
      ...(h.dumpOffsetAsked !== null ? { dumpOffset: h.dumpOffsetAsked } : {}),
    };
    const saved: Saved = { sessionId: session.sessionId, params, view: ui.view, cursor: mem.cursor.toString(), top: mem.top.toString(), space: mem.space };
    sessionStorage.setItem(KEY, JSON.stringify(saved));
  });
}

/**
 * Come back to the dump, view and cursor of before the reload. Returns true when there was
 * something to restore (whether or not it worked: a failure leaves its reason in the session store).
 */
export async function restoreState(): Promise<boolean> {
  const saved = load();
  if (!saved) return false;
  const session = useSession();
  const ui = useUi();
  const mem = useMemory();
  const back = (await session.adopt(saved.sessionId)) || (await reopen(saved));
  if (!back) {
    ui.show('open');
    return true;
  }
  mem.space = saved.space ?? 'virtual';
  mem.cursor = BigInt(saved.cursor);
  mem.top = BigInt(saved.top);
  ui.show(VIEWS.some((v) => v.name === saved.view) ? saved.view : 'summary');
  return true;
}

async function reopen(saved: Saved): Promise<boolean> {
  const session = useSession();
  session.error = null;
  const ok = await session.open(saved.params);
  if (ok) session.notice = `The workbench had closed ${saved.params.dumpPath} (it was idle, or the app restarted); it was reopened.`;
  else {
    const why = session.$state.error as OpError | null; // set by open(), which TS cannot see
    if (why) session.error = { code: why.code, message: `${saved.params.dumpPath} could not be reopened after the reload: ${why.message}` };
  }
  return ok;
}
