// One ipcMain.handle per contract operation, all through the shared handler layer, each refusing
// senders that are not our renderer; job progress is pushed to the window.

import { ipcMain, type BrowserWindow } from 'electron';
import { fail } from '../../contract/errors.ts';
import { ipcChannel, JOB_EVENT_CHANNEL, OP_NAMES } from '../../contract/op-names.ts';
import type { Handlers } from '../app/handlers.ts';
import { isTrustedSender, type TrustedOrigins } from './security.ts';

export function registerIpc(handlers: Handlers, trusted: TrustedOrigins, window: () => BrowserWindow | null): () => void {
  for (const op of OP_NAMES) {
    ipcMain.handle(ipcChannel(op), (event, args: unknown) => {
      if (!isTrustedSender(event, trusted)) return fail('bad-request', 'refused: the request did not come from the workbench window');
      return handlers.call(op, args);
    });
  }
  const unsubscribe = handlers.onJobEvent((e) => {
    const w = window();
    if (w && !w.isDestroyed()) w.webContents.send(JOB_EVENT_CHANNEL, e);
  });
  return () => {
    unsubscribe();
    for (const op of OP_NAMES) ipcMain.removeHandler(ipcChannel(op));
  };
}
