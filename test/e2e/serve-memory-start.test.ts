// Issue 14 item 8a: the Memory view opens where it makes sense — the start of the kernel's text
// when nothing better is known, never VA 0 — and remembers the last place per dump.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeDumpFiles, type DumpFiles } from '../app/helpers/dump-files.ts';
import { chromiumRequiredInCi, HAVE_CHROMIUM, openThroughUi, useBrowserSession } from './helpers.ts';

chromiumRequiredInCi();

describe.skipIf(!HAVE_CHROMIUM)('where the Memory view opens, in Chromium', () => {
  let files: DumpFiles;
  beforeAll(() => {
    files = writeDumpFiles({ seed: 18 });
  });
  afterAll(() => files?.cleanup());
  const browser = useBrowserSession({ allowWrite: false });

  const status = async () => (await browser.page.getByTestId('hex-status').textContent()) ?? '';

  test('a fresh dump opens at the kernel text, mapped; the last place is remembered for that dump', async () => {
    await openThroughUi(browser.page, files);
    await browser.page.getByTestId('tab-hex').click();
    await expect.poll(status, { timeout: 10_000 }).toMatch(/cursor 0xffffffff8[0-9a-f]+(<[^>]*>)?PA 0x[0-9a-f]+, file offset \d+/);
    await browser.page.getByTestId('goto-input').fill('hostname');
    await browser.page.getByTestId('goto-button').click();
    const host = `cursor 0x${files.image.facts.symbols.hostname.va.toString(16)}`;
    await expect.poll(status).toContain(host);
    await new Promise((r) => setTimeout(r, 500)); // the place is saved shortly after the cursor settles
    // Open the same dump again (a new session): back at hostname.
    await openThroughUi(browser.page, files);
    await browser.page.getByTestId('tab-hex').click();
    await expect.poll(status, { timeout: 10_000 }).toContain(host);
  });
});
