// Calling a running serve-mode server the way the browser client does.
import type { Outcome } from '../../../contract/errors.ts';
import type { RunningServer } from '../../../main/serve/server.ts';

export async function httpCall(server: RunningServer, op: string, args: unknown, headers: Record<string, string> = {}): Promise<Outcome<unknown>> {
  const res = await fetch(`http://127.0.0.1:${server.port}/api/${op}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${server.token}`, ...headers },
    body: JSON.stringify(args),
  });
  if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
  return (await res.json()) as Outcome<unknown>;
}
