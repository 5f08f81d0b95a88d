// Issue 9 item 5: a run killed (SIGKILL) right after the invalidating write leaves a manifest that
// says "pending"; the audit log already holds the intent, and the next run in that directory finds
// out what is true on the device and records it.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { auditLines, isInvalidated, NOW, run, dumpsRemovedAfterEach } from './savecore-fixture.ts';

const dump = dumpsRemovedAfterEach();
const JOB = pathToFileURL(join(import.meta.dirname, '..', '..', 'dist', 'main', 'jobs', 'savecore', 'job.js')).href;

/** Run savecore in a child process that SIGKILLs itself right after the invalidating write is fsynced. */
function runKilledAfterInvalidate(opts: object): number | null {
  const script = `
    const { runSavecore } = await import(${JSON.stringify(JOB)});
    await runSavecore(${JSON.stringify(opts)}, { hooks: { afterInvalidate: () => process.kill(process.pid, 'SIGKILL') } });
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  return r.signal === 'SIGKILL' ? null : r.status;
}

describe('an invalidation interrupted by kill -9', () => {
  it('intent logged before the write, manifest pending, reconciled by the next run', async () => {
    const d = dump({ flavour: 'amd64', seed: 8 });
    const code = runKilledAfterInvalidate({ directory: d.crashDir, device: d.device, kernel: d.kernel, dumpOffset: d.img.facts.dumpOff, now: NOW });
    expect(code).toBeNull(); // killed
    expect(isInvalidated(d)).toBe(true);
    const manifestPath = join(d.crashDir, 'netbsd.0.manifest.json');
    expect(JSON.parse(readFileSync(manifestPath, 'utf8')).invalidation.status).toBe('pending');
    expect(auditLines(d).map((l) => l.action)).toEqual(['verify', 'save', 'invalidate-intent']);

    const next = await run(d);
    expect(next.status).toBe('no-dump'); // the dump really was invalidated
    expect(next.messages.some((m) => /said the invalidation was pending/.test(m.message))).toBe(true);
    const fixed = JSON.parse(readFileSync(manifestPath, 'utf8'));
    expect(fixed.invalidation).toMatchObject({ status: 'invalidated', reconciled: { how: expect.stringMatching(/dumpmag on .* reads zero/) } });
    expect(auditLines(d).map((l) => l.action)).toContain('reconcile');
  });
});
