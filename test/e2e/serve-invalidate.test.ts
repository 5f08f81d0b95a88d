// Export-then-invalidate in the browser, with writes allowed: the user ticks "invalidate", confirms
// what it does, and only after the archive is verified is dumpmag zeroed on the dump.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createHandlers, type Handlers } from '../../main/app/handlers.ts';
import { startServer, type RunningServer } from '../../main/serve/server.ts';
import { writeDumpFiles, type DumpFiles } from '../app/helpers/dump-files.ts';
import { CHROMIUM, CHROMIUM_ARGS, ensureRendererBuilt, openThroughUi } from './helpers.ts';

describe.skipIf(!existsSync(CHROMIUM))('export and invalidate, confirmed, in Chromium', () => {
  let files: DumpFiles;
  let userData: string;
  let handlers: Handlers;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    const staticDir = ensureRendererBuilt();
    files = writeDumpFiles({ seed: 2 });
    userData = mkdtempSync(join(tmpdir(), 'kvmdump-e2e-inval-'));
    handlers = createHandlers({ mode: 'serve', userDataDir: userData, allowWrite: true, listDevices: async () => ({ platform: 'linux', devices: [], note: null }) });
    server = await startServer({ handlers, staticDir });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(server.url);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await handlers?.shutdown();
    files?.cleanup();
    if (userData) rmSync(userData, { recursive: true, force: true });
  });

  test('nothing is written before the confirmation; after it, the archive exists and dumpmag is zero', async () => {
    const dm = files.image.facts.symbols.dumpmag!;
    const dumpmagBytes = () => readFileSync(files.dumpPath).subarray(dm.fileOff, dm.fileOff + 8).toString('hex');
    const before = dumpmagBytes();
    await openThroughUi(page, files);
    await page.getByTestId('tab-export').click();
    await page.locator('#outdir').fill(files.dir);
    await page.getByTestId('export-invalidate').check();
    await page.getByRole('button', { name: 'Start' }).click();
    await page.getByTestId('export-confirm').waitFor();
    expect(dumpmagBytes()).toBe(before); // asking is not doing
    await page.screenshot({ path: '/tmp/kvmdump-e2e-invalidate-confirm.png' });
    await page.getByTestId('export-confirm-yes').click();
    await expect.poll(async () => (await page.getByTestId('export-state').textContent()) ?? '', { timeout: 60_000 }).toMatch(/done|failed|cancelled/);
    expect(await page.getByTestId('export-state').textContent()).toContain('done');
    const outputs = (await page.getByTestId('export-outputs').textContent()) ?? '';
    const core = /\S*netbsd\.0\.core(\.gz)?/.exec(outputs)?.[0];
    expect(core && existsSync(core)).toBe(true);
    expect(dumpmagBytes()).toBe('0000000000000000');
  });
});
