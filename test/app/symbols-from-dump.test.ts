// Opening a dump in the app without a kernel file: the crashed kernel's ksyms table, found in the
// dump, gives the session its symbols — nlist, reads by symbol, symbol search (module symbols
// included), the crash summary and a confirmed invalidation all work, and the header says where
// the symbols came from. A dump without ksyms says why there are none.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createHandlers, type Handlers } from '../../main/app/handlers.ts';
import { writeDumpFiles, type DumpFiles } from './helpers/dump-files.ts';

let handlers: Handlers;
let userData: string;
const made: DumpFiles[] = [];

beforeAll(() => {
  userData = mkdtempSync(join(tmpdir(), 'kvmdump-ksyms-app-'));
  handlers = createHandlers({ mode: 'serve', userDataDir: userData, allowWrite: true });
});

afterAll(async () => {
  await handlers.shutdown();
  for (const f of made) f.cleanup();
  rmSync(userData, { recursive: true, force: true });
});

async function openWithoutKernel(files: DumpFiles) {
  const r = await handlers.invoke('openDump', { dumpPath: files.dumpPath, dumpOffset: files.dumpOffset });
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

describe('a dump with ksyms, opened without a kernel file', () => {
  let files: DumpFiles;
  let sessionId: string;

  beforeAll(async () => {
    files = writeDumpFiles({ seed: 51, triage: { ksyms: { modules: 1 }, panicstr: 'trap type 6 code 0 rip 0xffffffff80200040' } });
    made.push(files);
    const opened = await openWithoutKernel(files);
    sessionId = opened.sessionId;
    expect(opened.header.namelist).toEqual({ source: 'dump-ksyms', note: 'no kernel file given: symbols from the crashed kernel\'s ksyms in the dump (2 tables)' });
    expect(opened.header.kernelPath).toBeNull();
  });

  test('nlist and a read by symbol work through the dump\'s own symbols', async () => {
    const nl = await handlers.invoke('nlist', { sessionId, names: ['dumpmag', 'no_such_symbol'] });
    if (!nl.ok) throw new Error(nl.error.message);
    const dumpmagVa = files.image.facts.symbols.dumpmag!.va;
    expect(nl.value.entries.map((e) => [e.value, e.found])).toEqual([[`0x${dumpmagVa.toString(16)}`, true], ['0x0', false]]);
    const rd = await handlers.invoke('read', { sessionId, va: `0x${dumpmagVa.toString(16)}`, length: 4 });
    expect(rd).toMatchObject({ ok: true, value: { data: '0101ca8f' } });
  });

  test('symbol search finds the module\'s symbols, which no kernel file has', async () => {
    const mod = files.image.facts.kernelData.ksyms!.moduleSymbols[0]!;
    const r = await handlers.invoke('symbolSearch', { sessionId, query: mod.name, limit: 5 });
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.symbols[0]).toMatchObject({ name: mod.name, value: `0x${mod.value.toString(16)}` });
  });

  test('the crash summary has the panic and the version', async () => {
    const r = await handlers.invoke('triage', { sessionId });
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.text).toContain('trap type 6 code 0 rip 0xffffffff80200040');
    expect(r.value.text).toContain(files.image.facts.kernelData.strings.version.split('\n')[0]);
  });

  test('a confirmed invalidation finds dumpmag through the same symbols and zeroes it', async () => {
    const r = await handlers.invoke('inval', { sessionId, confirm: true });
    const mag = files.image.facts.symbols.dumpmag!;
    expect(r).toMatchObject({ ok: true, value: { result: 0, offset: mag.fileOff, length: 8 } });
    const now = readFileSync(files.dumpPath).subarray(mag.fileOff, mag.fileOff + 8);
    expect([...now]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    const h = await handlers.invoke('header', { sessionId });
    expect(h).toMatchObject({ ok: true, value: { namelist: { source: 'dump-ksyms' } } });
  });
});

test('a dump without ksyms, opened without a kernel file: no symbols, and the header says why', async () => {
  const files = writeDumpFiles({ seed: 52 });
  made.push(files);
  const opened = await openWithoutKernel(files);
  expect(opened.header.namelist).toEqual({ source: 'none', note: 'no kernel file given, and no ksyms table named "netbsd" in the first 1024 MiB of the dump\'s memory' });
  const r = await handlers.invoke('symbolSearch', { sessionId: opened.sessionId, query: 'dumpmag', limit: 5 });
  expect(r).toMatchObject({ ok: false, error: { code: 'not-found', message: expect.stringContaining('no ksyms table named "netbsd"') } });
});

test('a kernel file, when given, is the symbol source', async () => {
  const files = writeDumpFiles({ seed: 53, triage: { ksyms: {} } });
  made.push(files);
  const r = await handlers.invoke('openDump', { dumpPath: files.dumpPath, kernelPath: files.kernelPath, dumpOffset: files.dumpOffset });
  expect(r).toMatchObject({ ok: true, value: { header: { namelist: { source: 'kernel-file', note: null } } } });
});

test('a compressed core opened without a kernel file: found through the gzip index, the search bounded to 256 MiB', async () => {
  const withKsyms = writeDumpFiles({ seed: 54, gzip: true, triage: { ksyms: {} } });
  const without = writeDumpFiles({ seed: 55, gzip: true });
  made.push(withKsyms, without);
  expect((await openWithoutKernel(withKsyms)).header.namelist.source).toBe('dump-ksyms');
  expect((await openWithoutKernel(without)).header.namelist.note).toBe('no kernel file given, and no ksyms table named "netbsd" in the first 256 MiB of the dump\'s memory');
});
