// The fuzz harness: seeded, reproducible fast-check runs with a time bound per case and figures
// (cases, slowest case, heap high-water) per target. `npm test` runs each target briefly;
// `npm run fuzz` (FUZZ_RUNS, FUZZ_SEED, FUZZ_REPORT) runs the long campaign and records figures.

import { appendFileSync } from 'node:fs';
import fc from 'fast-check';

/** Cases per target: the long run's FUZZ_RUNS, else the short default the target names. */
export function runsFor(short: number): number {
  const long = Number(process.env.FUZZ_RUNS ?? 0);
  return long > 0 ? long : short;
}

export const SEED = Number(process.env.FUZZ_SEED ?? 20261204);

/** No single case may take longer than this (a hang is a failure, not a slow test). */
export const CASE_TIME_LIMIT_MS = Number(process.env.FUZZ_CASE_MS ?? 5000);

export interface FuzzFigures {
  target: string;
  cases: number;
  seed: number;
  slowestCaseMs: number;
  heapHighWaterMiB: number;
  failures: number;
}

/**
 * Run `property` over `arb` for `runs` cases: every case must resolve (never throw unexpectedly,
 * never exceed CASE_TIME_LIMIT_MS). Figures are appended to FUZZ_REPORT when set.
 */
export async function fuzz<T>(target: string, arb: fc.Arbitrary<T>, property: (value: T) => Promise<void>, shortRuns: number): Promise<FuzzFigures> {
  const runs = runsFor(shortRuns);
  let slowest = 0;
  let heap = 0;
  let cases = 0;
  const timed = async (value: T) => {
    const t0 = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`case took longer than ${CASE_TIME_LIMIT_MS} ms (a hang)`)), CASE_TIME_LIMIT_MS);
    });
    try {
      await Promise.race([property(value), limit]);
    } finally {
      clearTimeout(timer);
    }
    cases++;
    slowest = Math.max(slowest, performance.now() - t0);
    if (cases % 64 === 0) heap = Math.max(heap, process.memoryUsage().heapUsed);
  };
  await fc.assert(fc.asyncProperty(arb, timed), { numRuns: runs, seed: SEED, endOnFailure: true });
  heap = Math.max(heap, process.memoryUsage().heapUsed);
  const figures = { target, cases, seed: SEED, slowestCaseMs: Math.round(slowest), heapHighWaterMiB: Math.round(heap / 2 ** 20), failures: 0 };
  if (process.env.FUZZ_REPORT) appendFileSync(process.env.FUZZ_REPORT, JSON.stringify(figures) + '\n');
  return figures;
}

/** Byte edits: (offset, value) pairs, the offset taken modulo the region they land in. */
export const edits = (max = 24) => fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: max });

export function applyEdits(bytes: Uint8Array, start: number, length: number, list: [number, number][]): void {
  if (length <= 0) return;
  for (const [off, v] of list) {
    const at = start + (off % length);
    if (at < bytes.length) bytes[at] = v;
  }
}
