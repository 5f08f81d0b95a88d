// kill -9 of an export at points across every phase (copy, verify, publish, invalidate, manifest
// rewrite) and at random moments (issue 9). After each kill: no partial file under a final name, the
// dump never invalidated without a complete verified archive, the audit log parseable and saying
// what happened; the next run in the same directory never reuses a bounds number.

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { auditLines, expectedCore, isInvalidated, NOW, readImage, run, sha256, dumpsRemovedAfterEach, type DumpOnDisk } from '../unit/savecore-fixture.ts';

const dump = dumpsRemovedAfterEach();
const JOB = pathToFileURL(join(import.meta.dirname, '..', '..', 'dist', 'main', 'jobs', 'savecore', 'job.js')).href;

type KillPoint =
  | { at: 'phase'; phase: string; delayMs: number }
  | { at: 'progress'; phase: string; nth: number }
  | { at: 'after-invalidate' }
  | { at: 'time'; ms: number };

/** Run savecore in a child that SIGKILLs itself at `point`; true when it was killed. */
function killedRun(d: DumpOnDisk, point: KillPoint, compress: boolean): boolean {
  const opts = { directory: d.crashDir, device: d.device, kernel: d.kernel, dumpOffset: d.img.facts.dumpOff, now: NOW, compress, gzipChunkSize: 1 << 20 };
  const script = `
    const point = ${JSON.stringify(point)};
    const die = () => process.kill(process.pid, 'SIGKILL');
    const { runSavecore } = await import(${JSON.stringify(JOB)});
    let progress = 0;
    if (point.at === 'time') setTimeout(die, point.ms);
    await runSavecore(${JSON.stringify(opts)}, {
      onEvent: (e) => {
        if (point.at === 'phase' && e.type === 'phase' && e.phase === point.phase) { if (point.delayMs === 0) die(); else setTimeout(die, point.delayMs); }
        if (point.at === 'progress' && e.type === 'progress' && e.phase === point.phase && ++progress === point.nth) die();
      },
      hooks: point.at === 'after-invalidate' ? { afterInvalidate: die } : {},
    });
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  return r.signal === 'SIGKILL';
}

function finalFiles(d: DumpOnDisk): string[] {
  return readdirSync(d.crashDir).filter((n) => /^netbsd\.\d+/.test(n));
}

function checkInvariants(d: DumpOnDisk, compressed: boolean): void {
  // A core is the dump as it was, or (a run after an invalidation, with -f) as it is now: never partial.
  const expected = [sha256(expectedCore(d.img, d.original)), sha256(expectedCore(d.img, readImage(d)))];
  for (const n of finalFiles(d)) {
    const bytes = readFileSync(join(d.crashDir, n));
    if (/^netbsd\.\d+\.core$/.test(n)) expect(expected, n).toContain(sha256(bytes));
    if (/^netbsd\.\d+$/.test(n)) expect(sha256(bytes), n).toBe(sha256(d.img.kernel));
    if (n.endsWith('.json')) expect(() => JSON.parse(bytes.toString('utf8')), n).not.toThrow();
  }
  if (isInvalidated(d)) {
    const gz = compressed ? '.gz' : '';
    const boundsOf = finalFiles(d).filter((n) => n.endsWith('.manifest.json')).map((n) => n.split('.')[1]);
    expect(boundsOf.length, 'invalidated without a manifest').toBeGreaterThan(0);
    const b = boundsOf[0];
    for (const f of [`netbsd.${b}.core${gz}`, `netbsd.${b}${gz}`, `netbsd.${b}.manifest.json`]) expect(finalFiles(d), f).toContain(f);
    // The audit log recorded the intent before the write.
    expect(auditLines(d).map((l) => l.action)).toContain('invalidate-intent');
  }
}

const POINTS: KillPoint[] = [
  { at: 'progress', phase: 'core', nth: 1 },
  { at: 'phase', phase: 'core', delayMs: 1 },
  { at: 'phase', phase: 'core', delayMs: 0 },
  { at: 'progress', phase: 'kernel', nth: 1 },
  { at: 'progress', phase: 'verify', nth: 1 },
  { at: 'progress', phase: 'verify', nth: 2 },
  { at: 'phase', phase: 'report', delayMs: 0 },
  { at: 'phase', phase: 'report', delayMs: 3 },
  { at: 'phase', phase: 'manifest', delayMs: 0 },
  { at: 'phase', phase: 'manifest', delayMs: 2 },
  { at: 'phase', phase: 'invalidate', delayMs: 0 },
  { at: 'phase', phase: 'invalidate', delayMs: 4 },
  { at: 'after-invalidate' },
  { at: 'phase', phase: 'check', delayMs: 0 },
  { at: 'progress', phase: 'kernel', nth: 2 },
  { at: 'phase', phase: 'check', delayMs: 2 },
  { at: 'phase', phase: 'report', delayMs: 1 },
  { at: 'phase', phase: 'manifest', delayMs: 1 },
  // Random moments from a fixed seed (reproducible): milliseconds after the child starts.
  ...[180, 260, 330, 390, 450, 520, 600, 680, 760, 850, 940].map((ms) => ({ at: 'time' as const, ms })),
];

describe('kill -9 during an export', () => {
  it(`${POINTS.length} kills across all phases leave the evidence safe, and bounds are never reused`, async () => {
    let killed = 0;
    const notKilled: string[] = [];
    for (const [i, point] of POINTS.entries()) {
      const compress = i % 3 === 2;
      const d = dump({ flavour: i % 2 ? 'i386' : 'amd64', seed: 90 + i });
      if (killedRun(d, point, compress)) killed++;
      else notKilled.push(`#${i} ${JSON.stringify(point)}`); // finished first: still checked
      checkInvariants(d, compress);
      // The next run in the same directory: no file replaced, a bounds number never used before.
      const used = finalFiles(d).map((n) => Number(n.split('.')[1]));
      const again = await run(d, { keep: true, force: true, compress });
      expect(['saved', 'no-dump']).toContain(again.status);
      if (again.status === 'saved') expect(used).not.toContain(again.bounds);
      checkInvariants(d, compress);
      for (const line of auditLines(d)) expect(typeof line.action).toBe('string');
    }
    console.log(`kill harness: ${killed} of ${POINTS.length} runs killed mid-export; finished first: ${notKilled.join(", ") || "none"}`);
    expect(killed, `runs that finished before the kill: ${notKilled.join(', ')}`).toBeGreaterThanOrEqual(20);
  }, 300_000);
});
