// The renderer's job watcher against the real job registry: the final event is never lost, whether
// it arrives before the start reply names the job, is never pushed at all, or a stale status reply
// comes after a newer pushed event.

import { expect, test } from 'vitest';
import type { Outcome } from '../../contract/errors.ts';
import type { JobEvent } from '../../contract/results.ts';
import { JobRegistry, type JobReporter } from '../../main/app/jobs.ts';
import { watchJobs } from '../../renderer/src/api/job-watch.ts';

/** The two calls the watcher uses, over a registry; `deliver` decides whether pushes get through. */
function apiOver(jobs: JobRegistry, deliver: (e: JobEvent) => boolean = () => true) {
  let statusCalls = 0;
  const api = {
    onJobEvent: (l: (e: JobEvent) => void) => jobs.subscribe((e) => {
      if (deliver(e)) l(e);
    }),
    jobStatus: async (a: { jobId: string }): Promise<Outcome<JobEvent>> => {
      statusCalls++;
      const s = jobs.status(a.jobId);
      return s ? { ok: true, value: s } : { ok: false, error: { code: 'not-found', message: 'no job' } };
    },
  };
  return { api, statusCalls: () => statusCalls };
}

const tick = () => new Promise((r) => setImmediate(r));

async function twoSteps(r: JobReporter) {
  r.progress(1, 2);
  r.progress(2, 2);
  return { outputs: ['/x/netbsd.0.core'] };
}

test('a job that ends before follow() is called still resolves with its final event', async () => {
  const jobs = new JobRegistry();
  const seen: JobEvent[] = [];
  const watcher = watchJobs(apiOver(jobs).api, (e) => seen.push(e), 60_000);
  const id = jobs.start('savecore', twoSteps);
  for (let i = 0; i < 5; i++) await tick();
  expect(jobs.status(id)?.state).toBe('done');
  const end = await watcher.follow(id);
  watcher.close();
  expect(end).toMatchObject({ jobId: id, state: 'done', done: 2, total: 2, outputs: ['/x/netbsd.0.core'] });
  expect(seen.at(-1)).toEqual(end);
});

test('when no event is pushed at all, polling jobStatus finds the end', async () => {
  const jobs = new JobRegistry();
  const { api, statusCalls } = apiOver(jobs, () => false);
  const watcher = watchJobs(api, () => undefined, 5);
  let release!: () => void;
  const id = jobs.start('scan', async (r) => {
    await new Promise<void>((res) => (release = res));
    r.progress(7, 7);
    return { outputs: [] };
  });
  const ended = watcher.follow(id);
  await tick();
  release();
  const end = await ended;
  watcher.close();
  expect(end).toMatchObject({ state: 'done', done: 7, total: 7 });
  expect(statusCalls()).toBeGreaterThan(1);
});

test('a stale status reply never moves progress back, and nothing follows the final event', async () => {
  const jobs = new JobRegistry();
  const seen: JobEvent[] = [];
  let pushed: ((e: JobEvent) => void) | null = null;
  const staleApi = {
    onJobEvent: (l: (e: JobEvent) => void) => {
      pushed = l;
      return () => undefined;
    },
    jobStatus: async (a: { jobId: string }): Promise<Outcome<JobEvent>> => ({
      ok: true, value: { jobId: a.jobId, kind: 'scan', state: 'running', done: 1, total: 10, message: null, outputs: [] },
    }),
  };
  const watcher = watchJobs(staleApi, (e) => seen.push(e), 60_000);
  const base = { jobId: 'j00000001', kind: 'scan' as const, message: null, outputs: [] };
  const ended = watcher.follow('j00000001');
  pushed!({ ...base, state: 'running', done: 5, total: 10 });
  await tick();
  pushed!({ ...base, state: 'done', done: 10, total: 10 });
  pushed!({ ...base, state: 'running', done: 10, total: 10 });
  const end = await ended;
  watcher.close();
  expect(end.state).toBe('done');
  expect(seen.map((e) => `${e.state}:${e.done}`)).toEqual(['running:5', 'done:10']);
});

test('the registry keeps finished jobs for jobStatus, dropping the oldest beyond its limit', async () => {
  const jobs = new JobRegistry();
  const ids: string[] = [];
  for (let i = 0; i < 70; i++) ids.push(jobs.start('scan', async () => ({ outputs: [] })));
  for (let i = 0; i < 5; i++) await tick();
  expect(jobs.status(ids[0]!)).toBeNull();
  expect(jobs.status(ids[69]!)?.state).toBe('done');
  expect(ids.filter((id) => jobs.status(id) !== null)).toHaveLength(64);
});
