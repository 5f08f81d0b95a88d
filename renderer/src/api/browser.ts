// The client over serve mode: POST /api/<op> with the token from the page URL, and job progress
// from the server-sent event stream /api/events.

import { clientFromCall, type KvmdumpApi } from '../../../contract/client.ts';
import type { Outcome } from '../../../contract/errors.ts';
import { OP_NAMES } from '../../../contract/op-names.ts';
import type { JobEvent } from '../../../contract/results.ts';

export function createBrowserClient(location: Location, fetchImpl: typeof fetch = fetch.bind(globalThis)): KvmdumpApi {
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const call = async (op: string, args: unknown): Promise<Outcome<unknown>> => {
    try {
      const res = await fetchImpl(`/api/${op}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
        body: JSON.stringify(args),
      });
      if (res.status === 401) return { ok: false, error: { code: 'permission-denied', message: 'the server refused the token: open the exact URL kvmdump serve printed' } };
      const body = (await res.json()) as Outcome<unknown>;
      return body;
    } catch (e) {
      return { ok: false, error: { code: 'internal', message: `cannot reach the kvmdump server: ${(e as Error).message}` } };
    }
  };
  const listeners = new Set<(e: JobEvent) => void>();
  let source: EventSource | null = null;
  const onJobEvent = (listener: (e: JobEvent) => void) => {
    listeners.add(listener);
    if (!source) {
      source = new EventSource(`/api/events?token=${encodeURIComponent(token)}`);
      source.addEventListener('job', (m) => {
        const event = JSON.parse((m as MessageEvent<string>).data) as JobEvent;
        for (const l of listeners) l(event);
      });
    }
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && source) {
        source.close();
        source = null;
      }
    };
  };
  return clientFromCall(OP_NAMES, call, onJobEvent);
}
