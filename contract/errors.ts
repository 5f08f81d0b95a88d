// The one error shape every transport carries: a code a program can branch on, a message a
// person can read, and (for kvm failures) where in the dump it went wrong.

import type { KvmFault } from '../core/kvm/errbuf.ts';

export type OpErrorCode =
  /** Arguments failed the operation's schema; never reached the core. */
  | 'bad-request'
  /** No such operation. */
  | 'unknown-op'
  /** The operation exists in the contract but this build leaves its service out (or, in serve mode, dialogs). */
  | 'not-available'
  /** The session or job id is not (or no longer) open. */
  | 'not-found'
  /** A kvm function returned failure; message is kvm_geterr(), fault says where. */
  | 'kvm-error'
  /** A file or device could not be opened or read. */
  | 'open-error'
  /** The operating system refused access; message says how to get it. */
  | 'permission-denied'
  /** A write was asked for but the app runs read-only. */
  | 'write-not-allowed'
  /** A bug: something threw that should not have. */
  | 'internal';

/** Detail of a kvm failure with addresses as "0x…" strings: KvmFault made serialisable. */
export interface FaultInfo extends Omit<KvmFault, 'va' | 'pa' | 'errno'> {
  va?: string;
  pa?: string;
  errno?: string | number;
  /** For an unmapped address: the page-table walk's own explanation (kvatop's kvm_geterr()). */
  reason?: string;
}

export interface SchemaIssue {
  path: (string | number)[];
  message: string;
  code: string;
}

export interface OpError {
  code: OpErrorCode;
  message: string;
  /** bad-request only: what was wrong with which argument. */
  issues?: SchemaIssue[];
  fault?: FaultInfo;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: OpError };

export const ok = <T>(value: T): Outcome<T> => ({ ok: true, value });
export const fail = (code: OpErrorCode, message: string, extra: Partial<OpError> = {}): { ok: false; error: OpError } => ({
  ok: false,
  error: { code, message, ...extra },
});
