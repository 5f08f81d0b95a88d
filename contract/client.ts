// The typed client every transport implements: one async function per operation, each resolving
// to an Outcome (never throwing for an operation failure), plus job-progress subscription.

import type { Outcome } from './errors.ts';
import type { OpArgs, OpName, OpResult } from './operations.ts';
import type { JobEvent } from './results.ts';

export type KvmdumpApi = {
  [K in OpName]: (args: OpArgs<K>) => Promise<Outcome<OpResult<K>>>;
} & {
  /** Subscribe to job progress; returns the unsubscribe function. */
  onJobEvent(listener: (event: JobEvent) => void): () => void;
};

/** A raw call path (IPC invoke, HTTP POST) turned into the typed client. */
export function clientFromCall(
  opNames: readonly OpName[],
  call: (op: OpName, args: unknown) => Promise<Outcome<unknown>>,
  onJobEvent: KvmdumpApi['onJobEvent'],
): KvmdumpApi {
  const api: Record<string, unknown> = { onJobEvent };
  for (const name of opNames) api[name] = (args: unknown) => call(name, args ?? {});
  return api as KvmdumpApi;
}
