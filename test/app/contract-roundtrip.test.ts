// Every contract operation answers the same through the handler layer and through serve mode's
// HTTP transport, on a real dump image from the fixture builder.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { OP_NAMES, type OpName } from '../../contract/op-names.ts';
import { createHandlers, type Handlers } from '../../main/app/handlers.ts';
import { startServer, type RunningServer } from '../../main/serve/server.ts';
import { writeDumpFiles, type DumpFiles } from './helpers/dump-files.ts';
import { httpCall } from './helpers/serve-client.ts';

let files: DumpFiles;
let userData: string;
let handlers: Handlers;
let server: RunningServer;
let sessionId: string;
let dumpmagVa: string;

beforeAll(async () => {
  files = writeDumpFiles({ seed: 3 });
  userData = mkdtempSync(join(tmpdir(), 'kvmdump-userdata-'));
  handlers = createHandlers({
    mode: 'serve', userDataDir: userData, allowWrite: false,
    listDevices: async () => ({ platform: 'test', devices: [], note: null }),
  });
  server = await startServer({ handlers, staticDir: join(userData, 'no-renderer') });
  const r = await handlers.invoke('openDump', { kernelPath: files.kernelPath, dumpPath: files.dumpPath, dumpOffset: files.dumpOffset });
  if (!r.ok) throw new Error(r.error.message);
  sessionId = r.value.sessionId;
  dumpmagVa = `0x${files.image.facts.symbols.dumpmag!.va.toString(16)}`;
});

afterAll(async () => {
  await server.close();
  await handlers.shutdown();
  files.cleanup();
  rmSync(userData, { recursive: true, force: true });
});

/** A call for every operation, with arguments that make sense on the fixture dump. */
function calls(): Record<OpName, unknown> {
  return {
    appInfo: {},
    listDevices: {},
    listRecent: {},
    forgetRecent: { dumpPath: '/nonexistent/dump.img', kernelPath: null, dumpOffset: null },
    pickFile: {},
    pickSaveFile: { title: 'x' },
    openDump: { kernelPath: files.kernelPath, dumpPath: files.dumpPath, dumpOffset: files.dumpOffset },
    closeDump: { sessionId: 's00000000deadbeef' },
    scan: { path: files.dumpPath },
    surveyDisk: { path: files.dumpPath },
    header: { sessionId },
    mkheader: { sessionId, dumpOffset: files.dumpOffset },
    wrtheader: { sessionId, dumpsize: 4096, outPath: join(files.dir, 'exists-already') },
    inval: { sessionId, confirm: true },
    read: { sessionId, va: dumpmagVa, length: 64 },
    kvatop: { sessionId, va: dumpmagVa },
    nlist: { sessionId, names: ['dumpmag', 'version', 'no_such_symbol'] },
    symbolSearch: { sessionId, query: 'dump', limit: 5 },
    symbolPage: { sessionId, query: '', sort: 'name', descending: false, offset: 0, limit: 10 },
    startSavecore: { sessionId, outDir: join(files.dir, 'no-such-directory'), compress: false },
    startScan: { path: join(files.dir, 'no-such-device') },
    startOpen: { dumpPath: join(files.dir, 'no-such-dump') },
    cancelJob: { jobId: 'j0000000000000000' },
    jobStatus: { jobId: 'j0000000000000000' },
    triage: { sessionId },
    savecorePreview: { sessionId },
    kernelObjects: { sessionId, kind: 'processes' },
    readMemory: { sessionId, space: 'virtual', address: dumpmagVa, length: 64 },
    translate: { sessionId, va: dumpmagVa },
    locate: { sessionId, space: 'virtual', address: dumpmagVa },
    memoryRegions: { sessionId, space: 'physical' },
    stepRegion: { sessionId, space: 'physical', from: '0x1000', direction: 'next' },
    symbolsAt: { sessionId, addresses: [dumpmagVa] },
    startFind: { sessionId, space: 'virtual', kind: 'hex', text: 'not hex' },
    saveMemory: { sessionId, space: 'virtual', address: dumpmagVa, length: 4, path: join(files.dir, 'exists-already') },
    listBookmarks: { sessionId },
    saveBookmarks: { sessionId: 's00000000deadbeef', bookmarks: [] },
    exportBookmarks: { sessionId, path: join(files.dir, 'exists-already') },
    headerBytes: { sessionId },
  };
}

/** Session ids differ per open; everything else must match. */
const normalise = (v: unknown) => JSON.parse(JSON.stringify(v).replace(/"s[0-9a-f]{24}"/g, '"<session>"').replace(/"j[0-9a-f]{24}"/g, '"<job>"'));

describe('every operation gives the same outcome directly and over HTTP', () => {
  for (const op of OP_NAMES) {
    test(op, async () => {
      if (op === 'wrtheader' || op === 'saveMemory' || op === 'exportBookmarks') {
        const { writeFileSync } = await import('node:fs');
        writeFileSync(join(files.dir, 'exists-already'), 'x'); // both calls refuse to overwrite it
      }
      const args = calls()[op];
      const direct = await handlers.call(op, args);
      const viaHttp = await httpCall(server, op, args);
      expect(normalise(viaHttp)).toEqual(normalise(direct));
      if (op === 'openDump') {
        for (const r of [direct, viaHttp]) if (r.ok) await handlers.call('closeDump', { sessionId: (r.value as { sessionId: string }).sessionId });
      }
    });
  }
});

describe('the operations the table above sees failing also succeed the same way over both transports', () => {
  type Call = (op: string, args: unknown) => Promise<unknown>;
  const direct: Call = (op, args) => handlers.call(op, args);
  const viaHttp: Call = (op, args) => httpCall(server, op, args);
  const both = [['direct', direct], ['http', viaHttp]] as const;

  test('openDump then closeDump on that session', async () => {
    const outcomes = [];
    for (const [, call] of both) {
      const opened = (await call('openDump', { kernelPath: files.kernelPath, dumpPath: files.dumpPath, dumpOffset: files.dumpOffset })) as { ok: true; value: { sessionId: string } };
      expect(opened.ok).toBe(true);
      outcomes.push(await call('closeDump', { sessionId: opened.value.sessionId }));
      expect(await call('header', { sessionId: opened.value.sessionId })).toMatchObject({ ok: false, error: { code: 'not-found' } });
    }
    expect(outcomes).toEqual([{ ok: true, value: { closed: true } }, { ok: true, value: { closed: true } }]);
  });

  test('wrtheader to a new file: the same result and the same bytes', async () => {
    const results: Record<string, unknown>[] = [];
    for (const [name, call] of both) {
      const outPath = join(files.dir, `hdr-${name}`);
      const r = (await call('wrtheader', { sessionId, dumpsize: 4096, outPath })) as { ok: boolean; value: Record<string, unknown> };
      expect(r.ok).toBe(true);
      results.push({ ...r.value, outPath: '<path>', bytes: readFileSync(outPath).toString('hex') });
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[0]!.result).toBeGreaterThan(0);
  });

  test('startScan on the dump, followed with jobStatus to its end: the same scan result', async () => {
    const ends = [];
    for (const [, call] of both) {
      const started = (await call('startScan', { path: files.dumpPath })) as { ok: true; value: { jobId: string } };
      expect(started.ok).toBe(true);
      let status: { ok: boolean; value: { state: string } };
      do {
        await new Promise((r) => setTimeout(r, 20));
        status = (await call('jobStatus', { jobId: started.value.jobId })) as typeof status;
      } while (status.ok && status.value.state === 'running');
      ends.push(normalise(status));
    }
    expect(ends[1]).toEqual(ends[0]);
    expect(ends[0]).toMatchObject({ ok: true, value: { kind: 'scan', state: 'done', scan: { candidates: [{ offset: files.dumpOffset, machine: 'amd64' }] } } });
  });
});

describe('what the operations return on the fixture dump', () => {
  test('header: kcore fields, machine, cpu header fields, segments with file offsets', async () => {
    const r = await handlers.invoke('header', { sessionId });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const h = r.value;
    expect(h.hasHeader).toBe(true);
    expect(h.machine).toBe('amd64');
    expect(h.mkheader).toBe(files.image.facts.headerSize);
    expect(h.dumpOff).toBe(files.image.facts.memOff);
    expect(h.kcore?.magic).toBe('0x8fca');
    expect(Object.keys(h.cpuFields)).toContain('ptdpaddr');
    expect(h.segments.map((s) => [s.start, s.size])).toEqual(files.image.facts.segments.map((s) => [`0x${s.start.toString(16)}`, `0x${s.size.toString(16)}`]));
    expect(h.segments[0]!.fileOffset).toBe(files.image.facts.memOff);
    expect(h.segments[1]!.fileOffset).toBe(files.image.facts.memOff + Number(files.image.facts.segments[0]!.size));
  });

  test('read at dumpmag returns 01 01 ca 8f; addresses travel as 0x strings', async () => {
    const r = await handlers.invoke('read', { sessionId, va: dumpmagVa, length: 4 });
    expect(r).toMatchObject({ ok: true, value: { va: dumpmagVa, result: 4, data: '0101ca8f', fault: null, error: '' } });
  });

  test('a read of an unmapped page is a fault with the address and the walk\'s reason, not zeros', async () => {
    const r = await handlers.invoke('read', { sessionId, va: '0x1000', length: 16 });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.result).toBe(0);
    expect(r.value.data).toBe('');
    expect(r.value.stop).toBe('unmapped');
    expect(r.value.fault).toMatchObject({ va: '0x1000' });
    expect(r.value.fault?.reason).toMatch(/^PML4E \(level 4\) at PA 0x[0-9a-f]+ is not present \(entry 0x0\)$/);
  });

  test('kvatop gives the PA and the dump file offset', async () => {
    const r = await handlers.invoke('kvatop', { sessionId, va: dumpmagVa });
    const sym = files.image.facts.symbols.dumpmag!;
    expect(r).toMatchObject({ ok: true, value: { pa: `0x${sym.pa.toString(16)}`, fileOffset: sym.fileOff } });
  });

  test('nlist reports found and missing names', async () => {
    const r = await handlers.invoke('nlist', { sessionId, names: ['dumpmag', 'no_such_symbol'] });
    expect(r).toMatchObject({ ok: true, value: { result: 1, entries: [{ name: 'dumpmag', found: true, value: dumpmagVa }, { found: false }] } });
  });

  test('symbolSearch ranks the exact name first and finds a symbol by an address inside it', async () => {
    const byName = await handlers.invoke('symbolSearch', { sessionId, query: 'dumpmag' });
    expect(byName.ok && byName.value.symbols[0]).toMatchObject({ name: 'dumpmag', value: dumpmagVa });
    const byAddr = await handlers.invoke('symbolSearch', { sessionId, query: dumpmagVa });
    expect(byAddr.ok && byAddr.value.symbols.map((s) => s.name)).toContain('dumpmag');
  });

  test('wrtheader writes a new file and refuses to write over the dump being examined', async () => {
    const out = join(files.dir, 'hdr.bin');
    const r = await handlers.invoke('wrtheader', { sessionId, dumpsize: 4096, outPath: out });
    expect(r.ok && r.value.result).toBeGreaterThan(0);
    expect(r.ok && readFileSync(out).length).toBe(r.ok ? r.value.bytesWritten : -1);
    const over = await handlers.invoke('wrtheader', { sessionId, dumpsize: 4096, outPath: files.dumpPath });
    expect(over).toMatchObject({ ok: false, error: { code: 'bad-request' } });
  });

  test('opening remembers the dump in the recent list', async () => {
    const r = await handlers.invoke('listRecent', {});
    expect(r.ok && r.value.recent[0]).toMatchObject({ dumpPath: files.dumpPath, kernelPath: files.kernelPath, dumpOffset: files.dumpOffset });
  });

  test('scan finds the header offset', async () => {
    const r = await handlers.invoke('scan', { path: files.dumpPath });
    expect(r.ok && r.value.candidates.map((c) => c.offset)).toEqual([files.dumpOffset]);
  });

  test('inval is refused while the app is read-only', async () => {
    expect(await handlers.invoke('inval', { sessionId, confirm: true })).toMatchObject({ ok: false, error: { code: 'write-not-allowed' } });
  });

  test('triage gives the structured report and its text form', async () => {
    const r = await handlers.invoke('triage', { sessionId, lines: 5 });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.report.schema).toBe('kvmdump-triage/1');
    expect(r.value.report.machine).toMatchObject({ value: { name: 'amd64' } });
    expect(r.value.text.length).toBeGreaterThan(0);
  });

  test('dialogs are not available outside Electron; closing an unknown session is not-found', async () => {
    expect(await handlers.invoke('pickFile', {})).toMatchObject({ ok: false, error: { code: 'not-available' } });
    expect(await handlers.invoke('closeDump', { sessionId: 's00000000deadbeef' })).toMatchObject({ ok: false, error: { code: 'not-found' } });
  });
});

describe('a wrong dump offset', () => {
  test('opens, but the header says what is wrong: offset, field, expected, found', async () => {
    const r = await handlers.invoke('openDump', { kernelPath: files.kernelPath, dumpPath: files.dumpPath, dumpOffset: 512 });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const h = r.value.header;
    expect(h.hasHeader).toBe(false);
    expect(h.mkheader).toBe(0);
    expect(h.error).toBe('invalid magic in cpu_hdr');
    expect(h.fault).toMatchObject({ op: 'mkheader', field: 'kcore_seg.c_midmag.magic', expected: '0x8fca (KCORE_MAGIC)' });
    expect(h.fault?.offset).toBeTypeOf('number');
    const read = await handlers.invoke('read', { sessionId: r.value.sessionId, va: dumpmagVa, length: 4 });
    expect(read).toMatchObject({ ok: false, error: { code: 'kvm-error' } });
    const fixed = await handlers.invoke('mkheader', { sessionId: r.value.sessionId, dumpOffset: files.dumpOffset });
    expect(fixed).toMatchObject({ ok: true, value: { result: files.image.facts.headerSize, header: { hasHeader: true } } });
    await handlers.invoke('closeDump', { sessionId: r.value.sessionId });
  });
});
