// Start-up arguments, the bundled sample lookup, the recent list file, the CSP kept equal in the
// HTML meta tag and the response header, and the rule that only main/electron imports electron.

import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { CSP_META } from '../../main/app/csp.ts';
import { packageRoot } from '../../main/app/paths.ts';
import { RecentFiles } from '../../main/app/recent.ts';
import { findSample, parseStartupArgs } from '../../main/app/startup.ts';

const tmp = mkdtempSync(join(tmpdir(), 'kvmdump-shell-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const root = packageRoot();

describe('start-up arguments', () => {
  test('--kernel K --dump D --dump-offset N, in both spellings, among Electron\'s own flags', () => {
    expect(parseStartupArgs(['.', '--no-sandbox', '--kernel', 'k', '--dump=d', '--dump-offset', '0x8000'])).toEqual({
      request: { kernelPath: 'k', dumpPath: 'd', dumpOffset: 0x8000 }, allowWrite: false, error: null,
    });
  });
  test('nothing given: no request (the sample is used)', () => {
    expect(parseStartupArgs(['.'])).toEqual({ request: null, allowWrite: false, error: null });
  });
  test('mistakes are reported, not guessed at', () => {
    expect(parseStartupArgs(['--dump', 'd', '--dump-offset', 'lots']).error).toMatch(/not a number/);
    expect(parseStartupArgs(['--kernel', 'k']).error).toMatch(/need --dump/);
  });
  test('--allow-write is an explicit opt-in', () => {
    expect(parseStartupArgs(['--allow-write']).allowWrite).toBe(true);
  });
});

describe('bundled sample', () => {
  test('a missing sample gives a clear message', () => {
    const r = findSample(join(tmp, 'no-such-root'));
    expect('missing' in r && r.missing).toMatch(/sample dump is missing/);
  });
  test('sample.json gives the offset (dumpOffset, dump_offset or dumplo)', () => {
    const dir = join(tmp, 'pkg', 'build', 'sample');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'netbsd'), '');
    writeFileSync(join(dir, 'dump.img.gz'), '');
    writeFileSync(join(dir, 'sample.json'), JSON.stringify({ dumplo: 64 }));
    expect(findSample(join(tmp, 'pkg'))).toEqual({ request: { kernelPath: join(dir, 'netbsd'), dumpPath: join(dir, 'dump.img.gz'), dumpOffset: 32768 } });
    writeFileSync(join(dir, 'sample.json'), JSON.stringify({ dumpOffset: 4096 }));
    expect(findSample(join(tmp, 'pkg'))).toMatchObject({ request: { dumpOffset: 4096 } });
  });
});

describe('recent files', () => {
  test('newest first, no duplicates, a damaged file reads as empty', async () => {
    const dir = join(tmp, 'userdata');
    const recent = new RecentFiles(dir);
    expect(await recent.list()).toEqual([]);
    const a = { kernelPath: '/k', dumpPath: '/a', dumpOffset: 512, machine: null };
    await recent.remember(a);
    await recent.remember({ ...a, dumpPath: '/b' });
    await recent.remember(a);
    expect((await recent.list()).map((e) => e.dumpPath)).toEqual(['/a', '/b']);
    writeFileSync(join(dir, 'recent.json'), '{oops');
    expect(await recent.list()).toEqual([]);
  });
});

describe('content security policy', () => {
  test('renderer/index.html carries the same policy as the header, without unsafe-eval or remote origins', () => {
    const html = readFileSync(join(root, 'renderer', 'index.html'), 'utf8');
    const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1];
    expect(meta).toBe(CSP_META);
    expect(CSP_META).not.toMatch(/unsafe-eval|unsafe-inline|https?:|\*/);
  });
});

describe('layering', () => {
  const files = (dir: string): string[] => readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : /\.(ts|vue)$/.test(f) ? [p] : [];
  });
  test("only main/electron and preload import 'electron'", () => {
    const offenders = ['core', 'contract', 'main', 'renderer/src']
      .flatMap((d) => files(join(root, d)))
      .filter((f) => !relative(root, f).startsWith('main/electron/'))
      .filter((f) => /from ['"]electron['"]|require\(['"]electron['"]\)/.test(readFileSync(f, 'utf8')));
    expect(offenders.map((f) => relative(root, f))).toEqual([]);
  });
  test('the renderer imports nothing from main/ or core/ (only the contract)', () => {
    const offenders = files(join(root, 'renderer', 'src')).filter((f) => /from ['"](\.\.\/)+(main|core)\//.test(readFileSync(f, 'utf8')));
    expect(offenders.map((f) => relative(root, f))).toEqual([]);
  });
});

describe('opening at start-up', () => {
  test('the bundled sample (gzip-compressed dump) is opened and reported by appInfo', async () => {
    const { writeDumpFiles } = await import('./helpers/dump-files.ts');
    const { createHandlers } = await import('../../main/app/handlers.ts');
    const { openAtStartup } = await import('../../main/app/startup.ts');
    const { renameSync } = await import('node:fs');
    const files = writeDumpFiles({ seed: 7, gzip: true });
    const sampleRoot = join(tmp, 'with-sample');
    const dir = join(sampleRoot, 'build', 'sample');
    mkdirSync(dir, { recursive: true });
    renameSync(files.kernelPath, join(dir, 'netbsd'));
    renameSync(files.dumpPath, join(dir, 'dump.img.gz'));
    writeFileSync(join(dir, 'sample.json'), JSON.stringify({ dumpOffset: files.dumpOffset }));
    const handlers = createHandlers({ mode: 'electron', userDataDir: join(tmp, 'ud-sample'), allowWrite: false });
    try {
      const { sessionId, message } = await openAtStartup(handlers, null, true, sampleRoot);
      expect(message).toBeNull();
      const info = await handlers.invoke('appInfo', {});
      expect(info).toMatchObject({ ok: true, value: { initialSessionId: sessionId, startupMessage: null } });
      const header = await handlers.invoke('header', { sessionId: sessionId! });
      expect(header).toMatchObject({ ok: true, value: { compressed: true, hasHeader: true, machine: 'amd64' } });
      const va = `0x${files.image.facts.symbols.dumpmag!.va.toString(16)}`;
      expect(await handlers.invoke('read', { sessionId: sessionId!, va, length: 4 })).toMatchObject({ ok: true, value: { data: '0101ca8f' } });
    } finally {
      await handlers.shutdown();
      files.cleanup();
    }
  });

  test('a missing sample leaves the app on the Open view with the reason', async () => {
    const { createHandlers } = await import('../../main/app/handlers.ts');
    const { openAtStartup } = await import('../../main/app/startup.ts');
    const handlers = createHandlers({ mode: 'electron', userDataDir: join(tmp, 'ud-missing'), allowWrite: false });
    await openAtStartup(handlers, null, true, join(tmp, 'nothing-here'));
    expect(await handlers.invoke('appInfo', {})).toMatchObject({ ok: true, value: { initialSessionId: null, startupMessage: expect.stringMatching(/sample dump is missing/) } });
  });

  test('a dump that cannot be opened is reported, not thrown', async () => {
    const { createHandlers } = await import('../../main/app/handlers.ts');
    const { openAtStartup } = await import('../../main/app/startup.ts');
    const handlers = createHandlers({ mode: 'serve', userDataDir: join(tmp, 'ud-bad'), allowWrite: false });
    const r = await openAtStartup(handlers, { dumpPath: join(tmp, 'no-such.img') }, false);
    expect(r.sessionId).toBeNull();
    expect(r.message).toMatch(/Could not open .*no-such\.img: .*No such file/);
  });
});
