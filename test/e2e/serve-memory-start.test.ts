// Issue 14 item 8a: the Memory view opens where it makes sense — the start of the kernel's text
// when nothing better is known, never VA 0 — and remembers the last place per dump.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeDumpFiles, type DumpFiles } from '../app/helpers/dump-files.ts';
import { chromiumRequiredInCi, HAVE_CHROMIUM, openThroughUi, startBrowserSession, type BrowserSession } from './helpers.ts';

chromiumRequiredInCi();

describe.skipIf(!HAVE_CHROMIUM)('where the Memory view opens, in Chromium', () => {
  let files: DumpFiles;
  let session: BrowserSession;
  let page: Page;

  beforeAll(async () => {
    files = writeDumpFiles({ seed: 18 });
    session = await startBrowserSession({ allowWrite: false });
    page = session.page;
  });
  afterAll(async () => {
    await session?.close();
    files?.cleanup();
  });

  const status = async () => (await page.getByTestId('hex-status').textContent()) ?? '';

  test('a fresh dump opens at the kernel text, mapped; the last place is remembered for that dump', async () => {
    await openThroughUi(page, files);
    await page.getByTestId('tab-hex').click();
    await expect.poll(status, { timeout: 10_000 }).toMatch(/cursor 0xffffffff8[0-9a-f]+(<[^>]*>)?PA 0x[0-9a-f]+, file offset \d+/);
    await page.getByTestId('goto-input').fill('hostname');
    await page.getByTestId('goto-button').click();
    const host = `cursor 0x${files.image.facts.symbols.hostname.va.toString(16)}`;
    await expect.poll(status).toContain(host);
    await new Promise((r) => setTimeout(r, 500)); // the place is saved shortly after the cursor settles
    // Open the same dump again (a new session): back at hostname.
    await openThroughUi(page, files);
    await page.getByTestId('tab-hex').click();
    await expect.poll(status, { timeout: 10_000 }).toContain(host);
  });
});
