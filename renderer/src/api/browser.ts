// The client over serve mode: POST /api/<op> with the token from the page URL, and job progress
// from the server-sent event stream /api/events.

import { clientFromCall, type KvmdumpApi } from '../../../contract/client.ts';
import type { OpError, Outcome } from '../../../contract/errors.ts';
import { OP_NAMES } from '../../../contract/op-names.ts';
import type { JobEvent } from '../../../contract/results.ts';

/** A well-formed Outcome: { ok: true, value } or { ok: false, error: { code, message } }. */
function isOutcome(body: unknown): body is Outcome<unknown> {
  if (typeof body !== 'object' || body === null) return false;
  const b = body as { ok?: unknown; value?: unknown; error?: unknown };
  if (b.ok === true) return 'value' in b;
  if (b.ok !== false || typeof b.error !== 'object' || b.error === null) return false;
  const e = b.error as { code?: unknown; message?: unknown };
  return typeof e.code === 'string' && typeof e.message === 'string';
}

/**
 * A reply that is not an Outcome (the server's 403 for a forbidden host or origin, a proxy's error
 * page, a truncated body) as a failure the stores can show: never an object without `error`.
 */
function transportFailure(status: number, body: unknown, text: string): { ok: false; error: OpError } {
  const said = serverMessage(body) ?? text.replace(/\s+/g, ' ').trim().slice(0, 200);
  const message = `the kvmdump server replied HTTP ${status}${said ? `: ${said}` : ' with no usable body'}`;
  return { ok: false, error: { code: status === 403 ? 'permission-denied' : 'internal', message } };
}

/** The message in a bare error object ({ code, message }) or a malformed Outcome's error. */
function serverMessage(body: unknown): string | null {
  if (typeof body !== 'object' || body === null) return null;
  const b = body as { message?: unknown; error?: unknown };
  if (typeof b.message === 'string') return b.message;
  if (typeof b.error === 'string') return b.error;
  if (typeof b.error === 'object' && b.error !== null && typeof (b.error as { message?: unknown }).message === 'string') {
    return (b.error as { message: string }).message;
  }
  return null;
}

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
      const text = await res.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      if (isOutcome(body) && (res.ok || !body.ok)) return body;
      return transportFailure(res.status, body, text);
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
