// Job plumbing with a stand-in savecore service: progress reaches subscribers directly and over
// serve mode's event stream, cancel aborts the work, and app shutdown closes every open dump.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { JobEvent } from '../../contract/results.ts';
import { createHandlers, type Handlers } from '../../main/app/handlers.ts';
import type { SavecoreRequest } from '../../main/app/services.ts';
import { startServer, type RunningServer } from '../../main/serve/server.ts';
import { writeDumpFiles, type DumpFiles } from './helpers/dump-files.ts';
import { httpCall } from './helpers/serve-client.ts';

let files: DumpFiles;
let userData: string;
let handlers: Handlers;
let server: RunningServer;
let sessionId: string;
const requests: SavecoreRequest[] = [];

/** Three progress steps, or wait for cancel when the directory says so. */
async function fakeSavecore(req: SavecoreRequest) {
  requests.push(req);
  if (req.outDir.endsWith('slow')) {
    await new Promise((_, reject) => req.signal.addEventListener('abort', () => reject(new Error('aborted'))));
  }
  for (let i = 1; i <= 3; i++) req.onProgress(i, 3, `block ${i}`);
  return { outputs: [join(req.outDir, 'netbsd.0.core')] };
}

beforeAll(async () => {
  files = writeDumpFiles({ seed: 6 });
  userData = mkdtempSync(join(tmpdir(), 'kvmdump-jobs-'));
  handlers = createHandlers({
    mode: 'serve', userDataDir: userData, allowWrite: false,
    services: { savecore: async () => fakeSavecore, triage: null },
  });
  server = await startServer({ handlers, staticDir: userData });
  const r = await handlers.invoke('openDump', { kernelPath: files.kernelPath, dumpPath: files.dumpPath, dumpOffset: files.dumpOffset });
  if (!r.ok) throw new Error(r.error.message);
  sessionId = r.value.sessionId;
});

afterAll(async () => {
  await server.close();
  files.cleanup();
  rmSync(userData, { recursive: true, force: true });
});

/** Collect job events from the SSE stream until one for jobId is final. */
async function sseEvents(until: (e: JobEvent) => boolean, start: () => Promise<void>): Promise<JobEvent[]> {
  const res = await fetch(`http://127.0.0.1:${server.port}/api/events?token=${server.token}`);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: JobEvent[] = [];
  let buf = '';
  await start();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const frame = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const data = /^data: (.*)$/m.exec(frame)?.[1];
      if (!data) continue;
      const e = JSON.parse(data) as JobEvent;
      events.push(e);
      if (until(e)) {
        await reader.cancel();
        return events;
      }
    }
  }
  return events;
}

test('savecore progress arrives over the event stream, ending in done with the outputs', async () => {
  let jobId = '';
  const events = await sseEvents((e) => e.state !== 'running', async () => {
    const r = await httpCall(server, 'startSavecore', { sessionId, outDir: join(files.dir, 'out'), compress: true });
    if (!r.ok) throw new Error(r.error.message);
    jobId = (r.value as { jobId: string }).jobId;
  });
  expect(events.every((e) => e.jobId === jobId && e.kind === 'savecore')).toBe(true);
  expect(events.map((e) => [e.state, e.done, e.total])).toEqual([['running', 1, 3], ['running', 2, 3], ['running', 3, 3], ['done', 3, 3]]);
  expect(events.at(-1)!.outputs).toEqual([join(files.dir, 'out', 'netbsd.0.core')]);
  expect(requests.at(-1)).toMatchObject({ dumpPath: files.dumpPath, kernelPath: files.kernelPath, dumpOffset: files.dumpOffset, compress: true, invalidate: false });
});

test('cancelJob aborts a running job, which ends as cancelled', async () => {
  const seen: JobEvent[] = [];
  const unsubscribe = handlers.onJobEvent((e) => seen.push(e));
  const r = await handlers.invoke('startSavecore', { sessionId, outDir: join(files.dir, 'slow'), compress: false });
  if (!r.ok) throw new Error(r.error.message);
  await new Promise((res) => setTimeout(res, 20));
  expect(await handlers.invoke('cancelJob', { jobId: r.value.jobId })).toEqual({ ok: true, value: { cancelled: true } });
  await expect.poll(() => seen.at(-1)?.state).toBe('cancelled');
  expect(await handlers.invoke('cancelJob', { jobId: r.value.jobId })).toMatchObject({ ok: false, error: { code: 'not-found' } });
  unsubscribe();
});

test('invalidating after export needs the app-level write permission', async () => {
  expect(await handlers.invoke('startSavecore', { sessionId, outDir: files.dir, compress: false, invalidate: true }))
    .toMatchObject({ ok: false, error: { code: 'write-not-allowed' } });
});

test('the real savecore job (builtin adapter) exports the dump and leaves it valid', async () => {
  const real = createHandlers({ mode: 'serve', userDataDir: userData, allowWrite: false });
  const opened = await real.invoke('openDump', { kernelPath: files.kernelPath, dumpPath: files.dumpPath, dumpOffset: files.dumpOffset });
  if (!opened.ok) throw new Error(opened.error.message);
  const outDir = mkdtempSync(join(tmpdir(), 'kvmdump-savecore-'));
  const seen: JobEvent[] = [];
  real.onJobEvent((e) => seen.push(e));
  try {
    const r = await real.invoke('startSavecore', { sessionId: opened.value.sessionId, outDir, compress: false });
    if (!r.ok) throw new Error(r.error.message);
    await expect.poll(() => ['done', 'failed', 'cancelled'].includes(seen.at(-1)?.state ?? ''), { timeout: 60_000 }).toBe(true);
    const last = seen.at(-1)!;
    expect(last, last.message ?? '').toMatchObject({ state: 'done' });
    expect(last.outputs.some((o) => o.endsWith('.core'))).toBe(true);
    expect(existsSync(last.outputs[0]!)).toBe(true);
    // The archive summary: every file's hash is the file's; verified; the dump left valid.
    const { createHash } = await import('node:crypto');
    const { readFileSync } = await import('node:fs');
    expect(last.archive).toMatchObject({ bounds: 0, verified: true, kernelSource: 'kernel-file', invalidation: 'skipped' });
    expect(last.archive!.files.map((f) => f.role)).toEqual(['core', 'kernel', 'manifest', 'report']);
    for (const f of last.archive!.files) {
      const bytes = readFileSync(f.path);
      expect([f.size, f.sha256]).toEqual([bytes.length, createHash('sha256').update(bytes).digest('hex')]);
    }
    const manifest = JSON.parse(readFileSync(last.archive!.files[2]!.path, 'utf8'));
    expect(last.archive!.memorySha256).toBe(manifest.dump.memorySha256);
    const va = `0x${files.image.facts.symbols.dumpmag!.va.toString(16)}`;
    expect(await real.invoke('read', { sessionId: opened.value.sessionId, va, length: 4 })).toMatchObject({ ok: true, value: { data: '0101ca8f' } });
  } finally {
    await real.shutdown();
    rmSync(outDir, { recursive: true, force: true });
  }
});

test('a scan job reports progress over the event stream and ends with the candidates', async () => {
  // A 40 MiB "disk": the dump 24 MiB in, so the scan takes several chunks.
  const disk = join(files.dir, 'disk.img');
  const { openSync, writeSync, closeSync, readFileSync } = await import('node:fs');
  const fd = openSync(disk, 'w');
  const offset = 24 << 20;
  writeSync(fd, readFileSync(files.dumpPath), 0, undefined, offset);
  writeSync(fd, Buffer.alloc(1), 0, 1, (40 << 20) - 1);
  closeSync(fd);
  let jobId = '';
  const events = await sseEvents((e) => e.state !== 'running', async () => {
    const r = await httpCall(server, 'startScan', { path: disk });
    if (!r.ok) throw new Error(r.error.message);
    jobId = (r.value as { jobId: string }).jobId;
  });
  expect(events.every((e) => e.jobId === jobId && e.kind === 'scan')).toBe(true);
  const last = events.at(-1)!;
  expect(last).toMatchObject({ state: 'done', message: '1 dump header found', done: 40 << 20, total: 40 << 20 });
  expect(last.scan!.candidates).toEqual([expect.objectContaining({ offset: offset + files.dumpOffset, machine: 'amd64', headerSize: 512 })]);
});

test('a scan job reads a gzip-compressed disk through its index: candidates and progress of the image inside', async () => {
  const { readFileSync, writeFileSync } = await import('node:fs');
  const { gzipSync } = await import('node:zlib');
  const disk = join(files.dir, 'disk.img'); // the 40 MiB disk of the test above
  const gz = join(files.dir, 'disk.img.gz');
  writeFileSync(gz, gzipSync(readFileSync(disk), { level: 1 }));
  let jobId = '';
  const events = await sseEvents((e) => e.state !== 'running', async () => {
    const r = await httpCall(server, 'startScan', { path: gz });
    if (!r.ok) throw new Error(r.error.message);
    jobId = (r.value as { jobId: string }).jobId;
  });
  expect(events.every((e) => e.jobId === jobId)).toBe(true);
  const last = events.at(-1)!;
  expect(last).toMatchObject({ state: 'done', message: '1 dump header found', done: 40 << 20, total: 40 << 20 });
  expect(last.scan!.candidates).toEqual([expect.objectContaining({ offset: (24 << 20) + files.dumpOffset, machine: 'amd64', headerSize: 512 })]);
});

test('a scan job can be cancelled; a path that cannot be opened is refused at once', async () => {
  const seen: JobEvent[] = [];
  const unsubscribe = handlers.onJobEvent((e) => seen.push(e));
  const r = await handlers.invoke('startScan', { path: '/dev/zero' }); // endless: only cancel ends it
  if (!r.ok) throw new Error(r.error.message);
  await expect.poll(() => seen.some((e) => e.jobId === r.value.jobId && e.state === 'running'), { timeout: 10_000 }).toBe(true);
  expect(await handlers.invoke('cancelJob', { jobId: r.value.jobId })).toEqual({ ok: true, value: { cancelled: true } });
  await expect.poll(() => seen.filter((e) => e.jobId === r.value.jobId).at(-1)?.state).toBe('cancelled');
  unsubscribe();
  expect(await handlers.invoke('startScan', { path: join(files.dir, 'missing') })).toMatchObject({ ok: false });
});

test('shutdown closes every open dump', async () => {
  expect(handlers.sessionCount).toBeGreaterThan(0);
  await handlers.shutdown();
  expect(handlers.sessionCount).toBe(0);
  expect(await handlers.invoke('header', { sessionId })).toMatchObject({ ok: false, error: { code: 'not-found' } });
});
