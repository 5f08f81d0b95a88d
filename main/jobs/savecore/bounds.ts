// <dir>/bounds and <dir>/minfree: savecore reads them with atoi of the first line (spec 7.3 step
// 10, 7.6 step 2). bounds is advanced before anything is written, so a failed or killed export
// never hands its number out again.

import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { errnoOf, strerror } from '../../../core/errno.ts';
import { writeFileDurably } from './writer.ts';

/** C atoi: leading blanks, an optional sign, decimal digits; anything else ends it; 0 if none. */
export function atoi(text: string): number {
  const m = /^[\t\n\v\f\r ]*([+-]?)(\d+)/.exec(text);
  if (!m) return 0;
  const v = BigInt.asIntN(32, BigInt(m[2].slice(0, 20))); // int conversion wraps on real systems
  return Number(m[1] === '-' ? -v : v) | 0;
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
}

/** Read <dir>/bounds (missing → warning, 0) and durably rewrite it as bounds+1. */
export async function takeBounds(directory: string): Promise<BoundsResult> {
  const path = join(directory, 'bounds');
  const warnings: string[] = [];
  let bounds = 0;
  try {
    bounds = atoi(await firstLine(path, 1 << 20));
  } catch (e) {
    warnings.push(`${path}: ${strerror(errnoOf(e))}`);
  }
  try {
    await writeFileDurably(path, `${(bounds + 1) | 0}\n`, 0o644);
  } catch (e) {
    warnings.push(`${path}: ${strerror(errnoOf(e))}`);
  }
  return { bounds, warnings };
}

/** <dir>/minfree in KiB; 0 when missing or empty. */
export async function readMinfree(directory: string): Promise<number> {
  try {
    return atoi(await firstLine(join(directory, 'minfree'), 100));
  } catch {
    return 0;
  }
}
