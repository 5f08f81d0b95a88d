// <dir>/bounds and <dir>/minfree: savecore reads them with atoi of the first line (spec 7.3 step
// 10, 7.6 step 2). bounds is advanced before anything is written, so a failed or killed export
// never hands its number out again.

import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { errnoOf, strerror } from '../../../core/errno.ts';
import { processAlive, ReadBackMismatch, writeFileVerified } from './writer.ts';

const LONG_MAX = (1n << 63n) - 1n;

/** NetBSD atoi = (int)strtol(s, NULL, 10): strtol clamps to LP64 long, the int conversion wraps. */
export function atoi(text: string): number {
  const m = /^[\t\n\v\f\r ]*([+-]?)(\d+)/.exec(text);
  if (!m) return 0;
  const digits = m[2].replace(/^0+(?=\d)/, '');
  const magnitude = digits.length > 20 ? LONG_MAX + 1n : BigInt(digits); // past 20 digits it clamps anyway
  const v = m[1] === '-' ? -magnitude : magnitude;
  const clamped = v > LONG_MAX ? LONG_MAX : v < -LONG_MAX - 1n ? -LONG_MAX - 1n : v;
  return Number(BigInt.asIntN(32, clamped));
}

/** First line of a file, at most `max` - 1 characters (fgets with a buffer of `max`). */
async function firstLine(path: string, max: number): Promise<string> {
  const fh = await fsp.open(path, 'r');
  try {
    const buf = Buffer.alloc(max - 1);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const text = buf.subarray(0, bytesRead).toString('latin1');
    const nl = text.indexOf('\n');
    return nl >= 0 ? text.slice(0, nl + 1) : text;
  } finally {
    await fh.close();
  }
}

export interface BoundsResult {
  bounds: number;
  /** savecore's warnings (missing file, failed rewrite). */
  warnings: string[];
  /** Why bounds+1 is not durably on disk (the next run could reuse this number), or null. */
  rewriteFailed: string | null;
}

/** Read <dir>/bounds (missing → warning, 0) and durably rewrite it as bounds+1, one run at a time. */
export async function takeBounds(directory: string): Promise<BoundsResult> {
  const release = await lockBounds(directory);
  try {
    return await readAndAdvance(join(directory, 'bounds'));
  } finally {
    await release();
  }
}

const LOCK_NAME = 'bounds.lock';
const LOCK_WAIT_MS = 10_000;

/**
 * <dir>/bounds.lock (O_EXCL, holding our pid) so concurrent runs never take the same number. A lock
 * whose process is gone is removed; without a lock (read-only or missing directory) we go on as
 * savecore does: publishing never replaces a file anyway.
 */
async function lockBounds(directory: string): Promise<() => Promise<void>> {
  const path = join(directory, LOCK_NAME);
  const unlocked = async () => undefined;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      await fsp.writeFile(path, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return () => fsp.unlink(path).catch(() => undefined);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || Date.now() > deadline) return unlocked;
    }
    const holder = Number.parseInt(await fsp.readFile(path, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(holder) && !processAlive(holder)) await fsp.unlink(path).catch(() => undefined);
    else await new Promise((r) => setTimeout(r, 5));
  }
}

async function readAndAdvance(path: string): Promise<BoundsResult> {
  const warnings: string[] = [];
  let bounds = 0;
  try {
    bounds = atoi(await firstLine(path, 1 << 20));
  } catch (e) {
    warnings.push(`${path}: ${strerror(errnoOf(e))}`);
  }
  let rewriteFailed: string | null = null;
  try {
    await writeFileVerified(path, `${(bounds + 1) | 0}\n`, 0o644);
  } catch (e) {
    rewriteFailed = `${path}: ${e instanceof ReadBackMismatch ? e.message : strerror(errnoOf(e))}`;
    warnings.push(rewriteFailed);
  }
  return { bounds, warnings, rewriteFailed };
}

/** <dir>/minfree in KiB; 0 when missing or empty. */
export async function readMinfree(directory: string): Promise<number> {
  try {
    return atoi(await firstLine(join(directory, 'minfree'), 100));
  } catch {
    return 0;
  }
}
