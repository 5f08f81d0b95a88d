// Issue 9 item 7: a dump whose crash time is months old (a disk pulled from a machine last year) is
// refused by savecore's time check; the Export view says why in words and offers savecore's -f.
import { existsSync, readdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeDumpFiles, type DumpFiles } from '../app/helpers/dump-files.ts';
import { chromiumRequiredInCi, HAVE_CHROMIUM, openThroughUi, startBrowserSession, type BrowserSession, useBrowserSession } from './helpers.ts';

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

describe.skipIf(!HAVE_CHROMIUM)('the Summary says up front what savecore will refuse (issue 14 item 4)', () => {
  const ui = useBrowserSession({ allowWrite: false });

  test('an old dump: the crash time and the 60-day rule, with -f as the way out; a recent one: nothing', async () => {
    const old = writeDumpFiles({ seed: 4, triage: { timeSecond: 1_700_000_000n } });
    const recent = writeDumpFiles({ seed: 4, triage: { timeSecond: BigInt(Math.floor(Date.now() / 1000) - 3600) } });
    try {
      await openThroughUi(ui.page, old);
      const refusal = ui.page.getByTestId('savecore-refusal-crash-time');
      await expect.poll(async () => ((await refusal.count()) ? (await refusal.textContent()) ?? '' : ''), { timeout: 20_000 })
        .toMatch(/savecore will refuse: the crash time \(2023-11-14 22:13:20 UTC, \d+ days from now\) is more than 60 days from now.*Force \(-f\)/);
      await ui.page.goto(ui.session.url);
      await openThroughUi(ui.page, recent);
      await ui.page.getByTestId('panic-banner').waitFor();
      await new Promise((r) => setTimeout(r, 500));
      expect(await ui.page.getByTestId('savecore-preview').count()).toBe(0);
    } finally {
      old.cleanup();
      recent.cleanup();
    }
  });

  test('an invalidated dump: savecore will say "no core dump"', async () => {
    const files = writeDumpFiles({ seed: 6 });
    try {
      const dm = files.image.facts.symbols.dumpmag;
      const { openSync, writeSync, closeSync } = await import('node:fs');
      const fd = openSync(files.dumpPath, 'r+');
      writeSync(fd, Buffer.alloc(8), 0, 8, dm.fileOff);
      closeSync(fd);
      await ui.page.goto(ui.session.url);
      await openThroughUi(ui.page, files);
      const refusal = ui.page.getByTestId('savecore-refusal-dumpmag');
      await expect.poll(async () => ((await refusal.count()) ? (await refusal.textContent()) ?? '' : ''), { timeout: 20_000 })
        .toMatch(/no core dump": dumpmag is 0x0, not 0x8fca0101 — the dump was already saved and invalidated/);
    } finally {
      files.cleanup();
    }
  });
});
