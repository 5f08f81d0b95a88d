// The single gate every call passes: known operation name, arguments that satisfy the contract's
// schema, write policy. Only then does an implementation run; anything it throws becomes an
// OpError, so a transport always gets an Outcome back.

import { fail, ok, type OpError, type OpErrorCode, type Outcome } from '../../contract/errors.ts';
import { isOpName, type OpName } from '../../contract/op-names.ts';
import { operations, type OpParsedArgs, type OpResult } from '../../contract/operations.ts';
import { isPermissionError } from './permissions.ts';

/** Thrown by implementations for an expected failure with a contract error code. */
export class OpFailure extends Error {
  constructor(readonly code: OpErrorCode, message: string, readonly extra: Partial<OpError> = {}) {
    super(message);
    this.name = 'OpFailure';
  }
}

/** What a transport knows about a call beyond its arguments. */
export interface CallContext {
  /** Aborted when the caller has gone (an HTTP client disconnected): request-bound work stops. */
  signal?: AbortSignal;
}

export type Implementations = { [K in OpName]: (args: OpParsedArgs<K>, call: CallContext) => Promise<OpResult<K>> };

export interface DispatchPolicy {
  allowWrite: boolean;
  /** Called for failures that are bugs, for the log. */
  onInternalError?: (op: string, e: unknown) => void;
}

export async function dispatch(impl: Implementations, policy: DispatchPolicy, op: unknown, rawArgs: unknown, call: CallContext = {}): Promise<Outcome<unknown>> {
  if (!isOpName(op)) return fail('unknown-op', `unknown operation: ${typeof op === 'string' ? op.slice(0, 100) : typeof op}`);
  const spec = operations[op];
  const parsed = spec.args.safeParse(rawArgs);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)), message: i.message, code: i.code }));
    const first = issues[0];
    return fail('bad-request', `${op}: invalid arguments${first ? ` (${first.path.join('.') || 'arguments'}: ${first.message})` : ''}`, { issues });
  }
  if (spec.writes && !policy.allowWrite) {
    return fail('write-not-allowed', `${op} writes to the dump device, and this app runs read-only. Start it with --allow-write to permit it.`);
  }
  try {
    const run = impl[op] as (a: unknown, c: CallContext) => Promise<unknown>;
    return ok(await run(parsed.data, call));
  } catch (e) {
    return toOutcome(op, e, policy);
  }
}

function toOutcome(op: string, e: unknown, policy: DispatchPolicy): Outcome<never> {
  if (e instanceof OpFailure) return fail(e.code, e.message, e.extra);
  if (isPermissionError(e)) return fail('permission-denied', (e as Error).message);
  policy.onInternalError?.(op, e);
  return fail('internal', `${op} failed: ${e instanceof Error ? e.message : String(e)}`);
}
