// `npm start` (scripts/start.mjs) on a host without the Electron binary: it says so in one line,
// falls back to serve mode on a free loopback port, prints the URL with its token, and the served
// workbench has the bundled sample dump (build/sample) open.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { bytesAt, CHROMIUM, CHROMIUM_ARGS, HAVE_CHROMIUM } from '../e2e/helpers.ts';

const root = join(import.meta.dirname, '..', '..');
const sample = join(root, 'build', 'sample');
const FALLBACK = 'Electron binary not available; starting serve mode instead';
const URL_LINE = /kvmdump workbench: (http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64})\n/;

/** As start.mjs decides: the electron package resolves to a binary that exists. */
function electronInstalled(): boolean {
  try {
    const path: unknown = createRequire(import.meta.url)('electron');
    return typeof path === 'string' && existsSync(path);
  } catch {
    return false;
  }
}

describe.skipIf(electronInstalled())('npm start without Electron', () => {
  let child: ChildProcess;
  let exited: Promise<void>;
  let stdout = '';
  let stderr = '';
  let url: URL;
  let configHome: string;

  beforeAll(async () => {
    configHome = mkdtempSync(join(tmpdir(), 'kvmdump-start-'));
    // Its own process group (detached), so afterAll can stop start.mjs, the serve child and any
    // build it is running, by that group's id.
    child = spawn(process.execPath, [join(root, 'scripts', 'start.mjs')], {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Recent files go to a scratch directory, not the user's.
      env: { ...process.env, XDG_CONFIG_HOME: configHome, BROWSER: 'true' },
    });
    exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    // start.mjs builds first when dist/ or out/ is stale, which can take a while.
    await new Promise<void>((resolve, reject) => {
      const poll = setInterval(() => {
        const m = URL_LINE.exec(stdout);
        if (m) {
          clearInterval(poll);
          url = new URL(m[1]!);
          resolve();
        } else if (child.exitCode !== null || child.signalCode !== null) {
          clearInterval(poll);
          reject(new Error(`npm start exited (${child.exitCode ?? child.signalCode}) before printing a URL:\n${stdout}\n${stderr}`));
        }
      }, 100);
    });
  }, 300_000);

  afterAll(async () => {
    if (child?.pid && child.exitCode === null && child.signalCode === null) {
      process.kill(-child.pid, 'SIGTERM');
      const killed = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000))]);
      if (!killed) {
        process.kill(-child.pid, 'SIGKILL');
        await exited;
      }
    }
    rmSync(configHome, { recursive: true, force: true });
  });

  const call = async (op: string, args: unknown = {}) => {
    const res = await fetch(new URL(`/api/${op}`, url), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${url.searchParams.get('token')}` },
      body: JSON.stringify(args),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as { ok: boolean; value: Record<string, unknown>; error?: unknown };
  };

  test('says once, before the URL, that it falls back to serve mode', () => {
    const lines = stdout.split('\n');
    expect(lines.filter((l) => l === FALLBACK)).toHaveLength(1);
    expect(stdout.indexOf(FALLBACK)).toBeLessThan(stdout.search(URL_LINE));
    expect(stdout).toContain('read-only: kvm_dump_inval is refused');
  });

  test('binds a loopback port chosen by the system', () => {
    expect(url.hostname).toBe('127.0.0.1');
    expect(Number(url.port)).toBeGreaterThan(0);
  });

  test('the URL serves the built workbench page', async () => {
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toMatch(/<script[^>]+src="[^"]*assets\//);
  });

  test('the bundled sample dump is open at start-up', async () => {
    const info = await call('appInfo');
    expect(info).toMatchObject({ ok: true, value: { mode: 'serve', allowWrite: false, startupMessage: null } });
    const sessionId = info.value.initialSessionId as string;
    expect(sessionId).toMatch(/^s[0-9a-f]+$/);
    const header = await call('header', { sessionId });
    expect(header).toMatchObject({
      ok: true,
      value: { sessionId, kernelPath: join(sample, 'netbsd'), dumpPath: join(sample, 'dump.img.gz'), dumpOffsetAsked: 32768, machine: 'amd64', error: '' },
    });
    const recent = await call('listRecent');
    expect(recent.value.recent).toMatchObject([{ dumpPath: join(sample, 'dump.img.gz'), kernelPath: join(sample, 'netbsd') }]);
  });

  test.skipIf(!HAVE_CHROMIUM)('in Chromium: the sample\'s summary leads with its panic, and memory at dumpmag reads 01 01 ca 8f', async () => {
    const meta = JSON.parse(readFileSync(join(sample, 'sample.json'), 'utf8')) as { panicMessage: string };
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(url.href);
      const banner = page.getByTestId('panic-banner');
      await expect.poll(async () => ((await banner.count()) ? (await banner.textContent()) ?? '' : ''), { timeout: 30_000 }).toContain(meta.panicMessage);
      const info = await call('appInfo');
      const nl = await call('nlist', { sessionId: info.value.initialSessionId, names: ['dumpmag'] });
      const va = BigInt((nl.value.entries as { value: string }[])[0]!.value);
      expect(await bytesAt(page, 'dumpmag', va, 4)).toEqual(['01', '01', 'ca', '8f']);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);

  test('serve mode reported no start-up problem', () => {
    expect(stderr).not.toMatch(/kvmdump serve:|internal error/);
  });

  // Issue 14 item 10: a terminal closing or a process manager sends SIGTERM to npm start alone.
  test('SIGTERM to npm start ends it and its server together (nothing re-parented to init)', async () => {
    const children = execFileSync('pgrep', ['-P', String(child.pid)]).toString().trim().split('\n').map(Number).filter(Boolean);
    expect(children.length).toBeGreaterThan(0);
    const t0 = Date.now();
    process.kill(child.pid!, 'SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 6000))]);
    expect(child.exitCode !== null || child.signalCode !== null).toBe(true);
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    await expect.poll(() => children.filter(alive), { timeout: 5000 }).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(6000);
  });
});
