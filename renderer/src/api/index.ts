// The one client the stores use: Electron's bridge when present, else the serve-mode HTTP client.
import type { KvmdumpApi } from '../../../contract/client.ts';
import type { OpError, Outcome } from '../../../contract/errors.ts';
import { createBrowserClient } from './browser.ts';
import { createElectronClient } from './electron.ts';

export const api: KvmdumpApi = window.kvmdump ? createElectronClient(window.kvmdump) : createBrowserClient(window.location);

/** An operation failure carried as an exception, for store code that prefers try/catch. */
export class ApiError extends Error {
  constructor(readonly error: OpError) {
    super(error.message);
  }
}

export async function unwrap<T>(p: Promise<Outcome<T>>): Promise<T> {
  const r = await p;
  if (!r.ok) throw new ApiError(r.error);
  return r.value;
}
