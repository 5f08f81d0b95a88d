// One step of a page-table walk with libkvm's error reporting (spec 5.2–5.6): a short read is a
// syserr ("<msg>: <strerror>"), a clear valid bit is a plain err. Both end the walk.

import type { Translation, WalkContext } from './machine.ts';

export interface StepMessages {
  /** Passed to syserr when the entry cannot be read. */
  readFailed: string;
  /** Passed to err when the entry's valid/present bit is clear. */
  notPresent: string;
}

/** Read the entry at pa; null (after reporting) when unreadable or not present (bit 0 clear). */
export async function readPresentEntry(
  ctx: WalkContext,
  pa: bigint,
  size: 4 | 8,
  messages: StepMessages,
): Promise<bigint | null> {
  const entry = await ctx.readEntry(pa, size);
  if (entry === null) {
    ctx.syserr(messages.readFailed);
    return null;
  }
  if ((entry & 1n) === 0n) {
    ctx.err(messages.notPresent);
    return null;
  }
  return entry;
}

/** A successful translation: pa, and cc = the bytes from pa to the end of its page. */
export function translated(pa: bigint, cc: bigint): Translation {
  return { pa, cc: Number(cc) };
}
