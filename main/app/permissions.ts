// Recognising "permission denied" so the renderer can show it as such (with the how-to-get-access
// hint main/sources/node-source.ts puts in the message).

import { errnoOf } from '../../core/errno.ts';
import { permissionHint } from '../sources/node-source.ts';

const DENIED = /EACCES|EPERM|permission denied|operation not permitted/i;

export function isPermissionError(e: unknown): boolean {
  const errno = errnoOf(e);
  return errno === 'EACCES' || errno === 'EPERM' || (e instanceof Error && DENIED.test(e.message));
}

/** The message for a refused open, with instructions unless the source layer already gave them. */
export function permissionMessage(path: string, e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const hint = permissionHint(path, process.platform, errnoOf(e));
  return text.includes(hint) || text.includes(permissionHint(path)) ? text : `${text} (${hint})`;
}

export { permissionHint };
