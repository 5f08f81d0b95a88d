// The desktop app end to end with Playwright's Electron driver: started with --kernel/--dump/
// --dump-offset it opens that dump on the crash summary, shows the header, and reads dumpmag in the
// memory view.
// Skipped where the Electron binary was never downloaded (offline hosts, CI here).

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { _electron as electron } from 'playwright-core';
import { afterAll, expect, test } from 'vitest';
import { packageRoot } from '../../main/app/paths.ts';
import { writeDumpFiles, type DumpFiles } from '../app/helpers/dump-files.ts';
import { bytesAt, ensureRendererBuilt } from './helpers.ts';

function electronBinary(): string | null {
  try {
    const path = createRequire(import.meta.url)('electron') as unknown;
    return typeof path === 'string' && existsSync(path) ? path : null;
  } catch {
    return null; // node_modules/electron/path.txt is missing: the binary was never installed
  }
}

const binary = electronBinary();
let files: DumpFiles | null = null;
afterAll(() => files?.cleanup());

test('Electron: open a dump from the command line, see its header, read dumpmag', async (ctx) => {
  if (!binary) {
    console.log('skipped: no Electron binary');
    ctx.skip('skipped: no Electron binary');
    return;
  }
  ensureRendererBuilt();
  files = writeDumpFiles({ seed: 1 });
  const app = await electron.launch({
    executablePath: binary,
    args: [packageRoot(), '--kernel', files.kernelPath, '--dump', files.dumpPath, '--dump-offset', String(files.dumpOffset)],
    env: { ...process.env, ELECTRON_ENABLE_LOGGING: '1' },
  });
  try {
    const page = await app.firstWindow();
    await page.getByTestId('summary-view').waitFor(); // the crash summary opens first
    await page.getByTestId('tab-header').click();
    await page.getByTestId('header-summary').waitFor();
    expect(await page.getByTestId('header-summary').textContent()).toContain('amd64');
    expect(await page.evaluate(() => typeof (window as unknown as { require?: unknown }).require)).toBe('undefined'); // no Node in the page
    const va = files.image.facts.symbols.dumpmag!.va;
    expect(await bytesAt(page, 'dumpmag', va, 4)).toEqual(['01', '01', 'ca', '8f']);
    await page.screenshot({ path: '/tmp/kvmdump-e2e-electron.png' });
  } finally {
    await app.close();
  }
});
