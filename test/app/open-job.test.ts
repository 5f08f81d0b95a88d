// Opening as a job (startOpen): the end event carries the same session openDump gives; a compressed
// core reports indexing progress; cancelling leaves no session behind; a path that cannot be
// opened fails the job with openDump's error text.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { JobEvent } from '../../contract/results.ts';
import { createHandlers, type Handlers } from '../../main/app/handlers.ts';
import { buildDumpImage } from '../fixtures/dump-image.ts';
import { writeDumpFiles, type DumpFiles } from './helpers/dump-files.ts';

let handlers: Handlers;
let userData: string;
let files: DumpFiles;
const events: JobEvent[] = [];

beforeAll(() => {
  userData = mkdtempSync(join(tmpdir(), 'kvmdump-open-job-'));
  // A fresh index cache, so the compressed core is really indexed here.
  process.env.KVMDUMP_CACHE_DIR = join(userData, 'cache');
  handlers = createHandlers({ mode: 'serve', userDataDir: userData, allowWrite: false });
  handlers.onJobEvent((e) => events.push(e));
  files = writeDumpFiles({ seed: 71 });
});

afterAll(async () => {
  await handlers.shutdown();
  files.cleanup();
  rmSync(userData, { recursive: true, force: true });
});

async function ended(jobId: string): Promise<JobEvent> {
  for (;;) {
    const s = await handlers.invoke('jobStatus', { jobId });
    if (!s.ok) throw new Error(s.error.message);
    if (s.value.state !== 'running') return s.value;
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('the job ends with the session, and the session reads the dump', async () => {
  const r = await handlers.invoke('startOpen', { kernelPath: files.kernelPath, dumpPath: files.dumpPath, dumpOffset: files.dumpOffset });
  if (!r.ok) throw new Error(r.error.message);
  const end = await ended(r.value.jobId);
  expect(end).toMatchObject({ kind: 'open', state: 'done', message: 'opened' });
  const sessionId = end.opened!.sessionId;
  expect(end.opened!.header).toMatchObject({ sessionId, hasHeader: true, machine: 'amd64', mkheader: files.image.facts.headerSize });
  const va = `0x${files.image.facts.symbols.dumpmag!.va.toString(16)}`;
  expect(await handlers.invoke('read', { sessionId, va, length: 4 })).toMatchObject({ ok: true, value: { data: '0101ca8f' } });
});

test('a compressed core reports indexing progress before the session', async () => {
  const img = buildDumpImage({ flavour: 'amd64', seed: 72, memMiB: 96 });
  const gz = join(files.dir, 'big.core.gz');
  writeFileSync(gz, gzipSync(img.toBytes(), { level: 1 }));
  const r = await handlers.invoke('startOpen', { kernelPath: files.kernelPath, dumpPath: gz, dumpOffset: img.facts.dumpOff });
  if (!r.ok) throw new Error(r.error.message);
  const end = await ended(r.value.jobId);
  expect(end.state).toBe('done');
  const progress = events.filter((e) => e.jobId === r.value.jobId && e.state === 'running');
  expect(progress.length).toBeGreaterThan(0);
  expect(progress.at(-1)!.message).toBe('indexing the compressed core');
  expect(end.opened!.header.compressed).toBe(true);
});

test('cancelled while indexing: the job ends cancelled and no session is left', async () => {
  const img = buildDumpImage({ flavour: 'amd64', seed: 73, memMiB: 256 });
  const gz = join(files.dir, 'bigger.core.gz');
  writeFileSync(gz, gzipSync(img.toBytes(), { level: 1 }));
  const before = handlers.sessionCount;
  const r = await handlers.invoke('startOpen', { dumpPath: gz, dumpOffset: img.facts.dumpOff });
  if (!r.ok) throw new Error(r.error.message);
  await new Promise((res) => setTimeout(res, 30));
  expect(await handlers.invoke('cancelJob', { jobId: r.value.jobId })).toMatchObject({ ok: true });
  const end = await ended(r.value.jobId);
  expect(end.state).toBe('cancelled');
  expect(handlers.sessionCount).toBe(before);
});

test('a path that cannot be opened fails the job with the reason', async () => {
  const missing = join(files.dir, 'no-such-dump');
  const r = await handlers.invoke('startOpen', { dumpPath: missing });
  if (!r.ok) throw new Error(r.error.message);
  const end = await ended(r.value.jobId);
  expect(end).toMatchObject({ state: 'failed', message: `${missing}: No such file or directory`, errorCode: 'open-error' });
});

test('permission denied: the failed job keeps the code and says how to get access', async () => {
  const denied = createHandlers({
    mode: 'serve', userDataDir: userData, allowWrite: false,
    openDump: async () => {
      throw Object.assign(new Error('EACCES: permission denied, open \'/dev/sdz\''), { code: 'EACCES' });
    },
  });
  try {
    const r = await denied.invoke('startOpen', { dumpPath: '/dev/sdz' });
    if (!r.ok) throw new Error(r.error.message);
    let end: JobEvent;
    do {
      await new Promise((res) => setTimeout(res, 10));
      const s = await denied.invoke('jobStatus', { jobId: r.value.jobId });
      if (!s.ok) throw new Error(s.error.message);
      end = s.value;
    } while (end.state === 'running');
    expect(end).toMatchObject({ state: 'failed', errorCode: 'permission-denied' });
    // As a user: how to get access; as root (CI): the security policy that refuses even root.
    expect(end.message).toMatch(/permission denied.*\(.*('disk' group|sudo|Administrator|security policy denies raw access)/i);
  } finally {
    await denied.shutdown();
  }
});
