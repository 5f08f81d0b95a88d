// Issue 14 item 5: a reload loses nothing. Open a dump from the Open view, go somewhere in Memory,
// reload: the same dump, view and cursor. A session main no longer holds is reopened from its
// parameters (and said); one that cannot be reopened says why.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeDumpFiles, type DumpFiles } from '../app/helpers/dump-files.ts';
import { chromiumRequiredInCi, HAVE_CHROMIUM, openThroughUi, useBrowserSession } from './helpers.ts';

chromiumRequiredInCi();

for (const flavour of ['amd64', 'i386pae'] as const) describe.skipIf(!HAVE_CHROMIUM)(`${flavour}: reload keeps the dump, the view and the cursor, in Chromium`, () => {
  let files: DumpFiles;
  beforeAll(() => {
    files = writeDumpFiles({ seed: 14, flavour });
  });
  afterAll(() => files?.cleanup());
  const browser = useBrowserSession({ allowWrite: false });

  const status = async () => (await browser.page.getByTestId('hex-status').textContent()) ?? '';
  const dmVa = () => files.image.facts.symbols.dumpmag.va;

  test('reload: same dump, Memory view, cursor at dumpmag', async () => {
    await openThroughUi(browser.page, files);
    await browser.page.getByTestId('tab-hex').click();
    await browser.page.getByTestId('goto-input').fill('dumpmag');
    await browser.page.getByTestId('goto-button').click();
    await expect.poll(status).toContain(`cursor 0x${dmVa().toString(16)}`);
    await browser.page.reload();
    await expect.poll(status, { timeout: 15_000 }).toContain(`cursor 0x${dmVa().toString(16)}`);
    expect(await browser.page.getByTestId('open-dump').textContent()).toContain(files.dumpPath);
    expect(await browser.page.getByTestId('tab-hex').getAttribute('aria-current')).toBe('page');
  });

  test('a session main no longer has is reopened from its parameters, and the browser.page says so', async () => {
    const ids = await browser.page.evaluate(() => JSON.parse(sessionStorage.getItem('kvmdump-workbench/state') ?? '{}').sessionId as string);
    expect((await browser.session.handlers.invoke('closeDump', { sessionId: ids })).ok).toBe(true);
    await browser.page.reload();
    await expect.poll(status, { timeout: 15_000 }).toContain(`cursor 0x${dmVa().toString(16)}`);
    expect(await browser.page.getByTestId('session-notice').textContent()).toMatch(/was reopened/);
  });

  test('a dump that is gone: the reason is shown in the Open view', async () => {
    const ids = await browser.page.evaluate(() => JSON.parse(sessionStorage.getItem('kvmdump-workbench/state') ?? '{}').sessionId as string);
    await browser.session.handlers.invoke('closeDump', { sessionId: ids });
    files.cleanup();
    await browser.page.reload();
    await expect.poll(async () => (await browser.page.locator('body').textContent()) ?? '', { timeout: 15_000 }).toMatch(/could not be reopened after the reload/);
  });
});
