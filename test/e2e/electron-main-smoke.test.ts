// The built Electron main process (out/main/index.js) run under plain Node with a recording
// stand-in for 'electron' (test/e2e/fake-electron): where no Electron binary can be installed this
// still proves the bundle loads, opens the dump given on its command line, creates a locked-down
// window with an existing preload, serves the renderer over app:// with the CSP, and answers IPC
// only for its own frames. The real window is covered by electron-ui.test.ts where Electron exists.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { OP_NAMES } from '../../contract/op-names.ts';
import { packageRoot } from '../../main/app/paths.ts';
import { writeDumpFiles, type DumpFiles } from '../app/helpers/dump-files.ts';
import { ensureRendererBuilt } from './helpers.ts';

let files: DumpFiles;
let report: any;
let dir: string;

beforeAll(() => {
  ensureRendererBuilt();
  files = writeDumpFiles({ seed: 4 });
  dir = mkdtempSync(join(tmpdir(), 'kvmdump-fake-electron-'));
  const reportPath = join(dir, 'report.json');
  const r = spawnSync(process.execPath, [
    '--import', join(import.meta.dirname, 'fake-electron', 'register.mjs'),
    join(packageRoot(), 'out', 'main', 'index.js'),
    '--kernel', files.kernelPath, '--dump', files.dumpPath, '--dump-offset', String(files.dumpOffset),
  ], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, FAKE_ELECTRON_REPORT: reportPath } });
  if (r.status !== 0) throw new Error(`main process exited ${r.status}: ${r.stderr}`);
  report = JSON.parse(readFileSync(reportPath, 'utf8'));
});

afterAll(() => {
  files?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the bundle starts without errors and registers the app:// scheme before ready, with the sandbox on', () => {
  expect(report.error).toBeUndefined();
  expect(report.sandbox).toBe(true);
  expect(report.schemes.map((s: { scheme: string }) => s.scheme)).toEqual(['app']);
});

test('one window: contextIsolation, sandbox, no Node integration, web security, and a preload that exists', () => {
  expect(report.windows).toHaveLength(1);
  const w = report.windows[0];
  expect(w.url).toBe('app://kvmdump/index.html');
  expect(w.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, webviewTag: false });
  expect(w.preloadExists).toBe(true);
});

test('the renderer is served over app:// with the CSP; paths cannot escape the renderer directory', () => {
  expect(report.checks.index).toMatchObject({ status: 200, html: true });
  expect(report.checks.index.csp).toContain("script-src 'self'");
  expect(report.checks.index.csp).not.toContain('unsafe-eval');
  expect(report.checks.escapeStatus).toBe(404);
  expect(report.csp[0]).toContain("default-src 'self'"); // also forced on every response header
});

test('permissions are refused, navigation away and window.open are blocked', () => {
  expect(report.permissionGranted).toBe(false);
  expect(report.checks.navigationBlocked).toBe(true);
  expect(report.checks.windowOpen).toEqual({ action: 'deny' });
});

test('IPC: every contract operation has a handler; frames that are not ours are refused', () => {
  expect([...report.ipc.channels].sort()).toEqual(OP_NAMES.map((op) => `kvmdump:op:${op}`).sort());
  for (const refused of [report.ipc.untrusted, report.ipc.noFrame]) expect(refused).toMatchObject({ ok: false, error: { code: 'bad-request' } });
  expect(report.ipc.badArgs).toMatchObject({ ok: false, error: { code: 'bad-request' } });
});

test('the dump from the command line is open at start: dumpmag reads 01 01 ca 8f through IPC', () => {
  expect(report.ipc.appInfo).toMatchObject({ ok: true, value: { mode: 'electron', allowWrite: false } });
  expect(report.ipc.appInfo.value.initialSessionId).toBeTruthy();
  expect(report.ipc.read).toMatchObject({ ok: true, value: { data: '0101ca8f' } });
});

test('the built preload, run as a sandboxed preload, exposes exactly the contract and works end to end', () => {
  const p = report.preload;
  expect([...p.exposed].sort()).toEqual([...OP_NAMES, 'onJobEvent'].sort());
  expect(p.read).toMatchObject({ ok: true, value: { data: '0101ca8f' } });
  expect(p.header).toMatchObject({ ok: true, value: { dumpOffsetAsked: files.dumpOffset, hasHeader: true, machine: 'amd64' } });
  expect(p.badArgs).toMatchObject({ ok: false, error: { code: 'bad-request' } });
});

test('job events reach the renderer through webContents.send and the preload; jobStatus agrees', () => {
  const p = report.preload;
  expect(p.scanStarted).toMatchObject({ ok: true });
  expect(p.scanEnd).toMatchObject({ kind: 'scan', state: 'done', scan: { candidates: [expect.objectContaining({ offset: files.dumpOffset, machine: 'amd64' })] } });
  expect(p.jobStatus).toEqual({ ok: true, value: p.scanEnd });
  expect(p.events).toBeGreaterThanOrEqual(1);
  expect(p.listenersAfterUnsubscribe).toBe(0);
});

test('native dialogs: the picked path comes back, a cancel is null, both are parented to the window', () => {
  const p = report.preload;
  expect(p.pickFile).toEqual({ ok: true, value: { path: '/dev/rsd0b' } });
  expect(p.pickFileCancelled).toEqual({ ok: true, value: { path: null } });
  expect(p.pickSaveFile).toEqual({ ok: true, value: { path: '/var/crash/netbsd.0.hdr' } });
  expect(report.dialogs.map((d: { kind: string; parented: boolean }) => [d.kind, d.parented])).toEqual([['open', true], ['open', true], ['save', true]]);
  expect(report.dialogs[0].options).toMatchObject({ title: 'Dump image, device or core file', properties: expect.arrayContaining(['openFile', 'showHiddenFiles']) });
  expect(report.dialogs[2].options.properties).toContain('showOverwriteConfirmation');
});
