// One step of a page-table walk with libkvm's error reporting (spec 5.2–5.6): a short read is a
// syserr ("<msg>: <strerror>"), a clear valid bit is a plain err. Both end the walk. Each step
// also tells ctx.visit where the entry is and what it held, for the strict layer's walk listing.

import type { EntryFlags } from '../layers/types.ts';
import type { Translation, WalkContext } from './machine.ts';
import { u64 } from './cpu-data.ts';

export interface StepMessages {
  /** Passed to syserr when the entry cannot be read. */
  readFailed: string;
  /** Passed to err when the entry's valid/present bit is clear. */
  notPresent: string;
}

/** Where the entry of one level is, and how to describe it. */
export interface StepAt {
  level: number;
  name: string;
  tableAddress: bigint;
  index: bigint;
  size: 4 | 8;
  /** Bytes of VA one entry at this level maps. */
  span: bigint;
  /** Decode the entry's flags (whether it maps a page itself is the architecture's call). */
  flags(entry: bigint): EntryFlags;
}

/** Read the entry of one level; null (after reporting) when unreadable or not present (bit 0 clear). */
export async function readPresentEntry(ctx: WalkContext, at: StepAt, messages: StepMessages): Promise<bigint | null> {
  const entryAddress = u64(at.tableAddress + at.index * BigInt(at.size));
  const where = { level: at.level, name: at.name, tableAddress: at.tableAddress, index: Number(at.index), entryAddress, span: at.span };
  ctx.visit?.(where);
  const entry = await ctx.readEntry(entryAddress, at.size);
  if (entry === null) {
    ctx.syserr(messages.readFailed);
    return null;
  }
  ctx.visit?.({ ...where, entry, flags: at.flags(entry) });
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
