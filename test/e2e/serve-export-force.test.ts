// Issue 9 item 7: a dump whose crash time is months old (a disk pulled from a machine last year) is
// refused by savecore's time check; the Export view says why in words and offers savecore's -f.
import { existsSync, readdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeDumpFiles, type DumpFiles } from '../app/helpers/dump-files.ts';
import { chromiumRequiredInCi, HAVE_CHROMIUM, openThroughUi, startBrowserSession, type BrowserSession } from './helpers.ts';

chromiumRequiredInCi();

describe.skipIf(!HAVE_CHROMIUM)('export of an old dump, in Chromium', () => {
  let files: DumpFiles;
  let session: BrowserSession;
  let page: Page;

  beforeAll(async () => {
    files = writeDumpFiles({ seed: 3, triage: { timeSecond: 1_700_000_000n } }); // November 2023
    session = await startBrowserSession({ allowWrite: false });
    page = session.page;
  });

  afterAll(async () => {
    await session?.close();
    files?.cleanup();
  });

  const state = async () => (await page.getByTestId('export-state').textContent()) ?? '';

  test('refused with the reason in words, then saved with -f', async () => {
    await openThroughUi(page, files);
    await page.getByTestId('tab-export').click();
    await page.locator('#outdir').fill(files.dir);
    await page.getByRole('button', { name: 'Start' }).click();
    await expect.poll(state, { timeout: 60_000 }).toMatch(/failed|done/);
    const refused = await state();
    expect(refused).toMatch(/failed: savecore refused: the crash time \(2023-11-14 22:13:20 UTC\) is more than 60 days from now/);
    expect(refused).not.toMatch(/failed: reboot$/);
    expect(readdirSync(files.dir).some((n) => n.endsWith('.core'))).toBe(false);

    await page.getByTestId('export-force-retry').click();
    await expect.poll(state, { timeout: 60_000 }).toMatch(/done/);
    expect(await page.getByTestId('export-force').isChecked()).toBe(true);
    expect(existsSync(`${files.dir}/netbsd.0.core.gz`) || existsSync(`${files.dir}/netbsd.0.core`)).toBe(true);
  });
});
