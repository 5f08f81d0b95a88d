// Shared e2e set-up: the built renderer (built on demand), Chromium from the system, and how to
// drive the workbench's views the way a user does.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { chromium, type Page } from 'playwright-core';
import { createHandlers, type Handlers } from '../../main/app/handlers.ts';
import { startServer } from '../../main/serve/server.ts';
import { packageRoot, rendererDir } from '../../main/app/paths.ts';
import type { DeviceEntry } from '../../contract/results.ts';

export const CHROMIUM = process.env.KVMDUMP_CHROMIUM ?? '/usr/bin/chromium';
/** Browser tests skip without Chromium on a developer machine; under CI its absence is a failure. */
export const HAVE_CHROMIUM = existsSync(CHROMIUM);

/** Register, in a browser test file, a failing test when CI runs without Chromium. */
export function chromiumRequiredInCi(): void {
  if (HAVE_CHROMIUM || !process.env.CI) return;
  test(`Chromium is installed at ${CHROMIUM} (CI must run the browser tests)`, () => {
    throw new Error(`no Chromium at ${CHROMIUM}: .ci/run installs it with apt-get; the browser tests did not run`);
  });
}
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'];

function newestSource(dir: string): number {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir, { withFileTypes: true }).reduce((t, e) => {
    const p = join(dir, e.name);
    return Math.max(t, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }, 0);
}

/** out/ (renderer, main, preload), (re)built with electron-vite when missing or older than its sources. */
export function ensureRendererBuilt(): string {
  const dir = rendererDir();
  const index = join(dir, 'index.html');
  // electron-vite builds main, preload and renderer together; any of their sources makes it stale.
  const sources = Math.max(...['renderer', 'contract', 'preload', 'main', 'core'].map((d) => newestSource(join(packageRoot(), d))));
  const mainBundle = join(packageRoot(), 'out', 'main', 'index.js');
  const built = Math.min(...[index, mainBundle].map((f) => (existsSync(f) ? statSync(f).mtimeMs : 0)));
  if (built < sources) {
    execFileSync('npx', ['electron-vite', 'build'], { cwd: packageRoot(), stdio: 'inherit' });
  }
  return dir;
}

export interface OpenRequest {
  kernelPath: string;
  dumpPath: string;
  dumpOffset: number;
}

/** Fill the Open form and open the dump; resolves on the Summary view (or the Header view when it failed). */
export async function openThroughUi(page: Page, req: OpenRequest): Promise<void> {
  // After a reload the workbench comes back to the dump it had open: go to the Open view first.
  await page.getByTestId('tab-open').click();
  await page.getByTestId('dump-path').fill(req.dumpPath);
  await page.getByTestId('kernel-path').fill(req.kernelPath);
  await page.getByTestId('dump-offset').fill(String(req.dumpOffset));
  await page.getByTestId('open').click();
  await page.getByTestId('summary-view').or(page.getByTestId('header-summary')).waitFor();
}

/** Go to an address or symbol in the Memory view; returns the bytes shown from there on. */
export async function bytesAt(page: Page, target: string, va: bigint, count: number): Promise<string[]> {
  await page.getByTestId('tab-hex').click();
  await page.getByTestId('goto-input').fill(target);
  await page.getByTestId('goto-button').click();
  const rowAddress = va - (va % 16n);
  const row = page.locator(`[data-address="0x${rowAddress.toString(16)}"] .bytes .cell`);
  await expect.poll(async () => (await row.count())).toBe(16);
  const first = Number(va % 16n);
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push((await row.nth(first + i).textContent())!.trim());
  return out;
}

/** The workbench in serve mode with Chromium on it: what each browser test starts from. */
export interface BrowserSession {
  page: Page;
  /** Console errors and page errors seen so far (a clean run has none). */
  errors: string[];
  /** The workbench's URL (with its token): to load it again, or reload. */
  url: string;
  /** main's handlers behind the server (to do what another window or an idle timeout would). */
  handlers: Handlers;
  close(): Promise<void>;
}

export async function startBrowserSession(opts: { allowWrite: boolean; devices?: () => DeviceEntry[] }): Promise<BrowserSession> {
  const staticDir = ensureRendererBuilt();
  const userData = mkdtempSync(join(tmpdir(), 'kvmdump-e2e-'));
  const handlers = createHandlers({
    mode: 'serve', userDataDir: userData, allowWrite: opts.allowWrite,
    listDevices: async () => ({ platform: 'linux', devices: opts.devices?.() ?? [], note: null }),
  });
  const server = await startServer({ handlers, staticDir });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(server.url);
  return {
    page,
    errors,
    url: server.url,
    handlers,
    async close() {
      await browser.close();
      await server.close();
      await handlers.shutdown();
      rmSync(userData, { recursive: true, force: true });
    },
  };
}

/**
 * The workbench and Chromium for one describe block: started before its tests, closed after them.
 * `session` and `page` are read when a test runs (they do not exist while the block is declared).
 */
export function useBrowserSession(opts: { allowWrite: boolean; devices?: () => DeviceEntry[] }): { readonly session: BrowserSession; readonly page: Page } {
  let started: BrowserSession | undefined;
  beforeAll(async () => {
    started = await startBrowserSession(opts);
  });
  afterAll(async () => {
    await started?.close();
  });
  const session = (): BrowserSession => {
    if (!started) throw new Error('the browser session has not started (use it inside a test)');
    return started;
  };
  return {
    get session() {
      return session();
    },
    get page() {
      return session().page;
    },
  };
}
