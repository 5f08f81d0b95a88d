// Issue 14 item 7: scan sees into a compressed image. The bundled sample is a gzip of a device image
// whose header is at 32768; scan (CLI and the app's job) reads it through the same random-access
// source as everything else, at the device's own offsets, with progress over the uncompressed size.

import { join } from 'node:path';
import { expect, test } from 'vitest';
import { createHandlers } from '../../main/app/handlers.ts';
import type { JobEvent } from '../../contract/results.ts';
import { kvmdump } from '../fixtures/cli.ts';
import { writeDumpFiles } from './helpers/dump-files.ts';

const SAMPLE = join(import.meta.dirname, '..', '..', 'build', 'sample');

test('kvmdump scan on the bundled gzip sample finds the header at 32768', () => {
  const r = kvmdump(['scan', '--dump', join(SAMPLE, 'dump.img.gz'), '--json']);
  expect(r.code).toBe(0);
  expect(r.json.candidates).toEqual([expect.objectContaining({ offset: 32768, machine: 'amd64', complete: true })]);
});

test('the app\'s scan job on a gzip image: the header at its device offset, progress over the uncompressed size', async () => {
  const files = writeDumpFiles({ seed: 5, gzip: true, dumplo: 96 });
  const handlers = createHandlers({ mode: 'serve', userDataDir: files.dir, allowWrite: false });
  try {
    const seen: JobEvent[] = [];
    handlers.onJobEvent((e) => seen.push(e));
    const r = await handlers.invoke('startScan', { path: files.dumpPath });
    if (!r.ok) throw new Error(r.error.message);
    await expect.poll(() => seen.find((e) => e.jobId === r.value.jobId && e.state !== 'running'), { timeout: 30_000 }).toBeDefined();
    const last = seen.filter((e) => e.jobId === r.value.jobId).at(-1)!;
    const size = files.image.toBytes().length;
    expect(last).toMatchObject({ state: 'done', message: '1 dump header found', done: size, total: size });
    expect(last.scan!.candidates).toEqual([expect.objectContaining({ offset: 96 * 512, machine: 'amd64' })]);
  } finally {
    await handlers.shutdown();
    files.cleanup();
  }
});
