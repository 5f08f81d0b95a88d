// Issue 14 item 6: the Open view checks fields as they are typed, speaks in sentences that go away
// when the input changes, and keeps a Recent list of real opens with dump, kernel and offset apart,
// removable, with files that are gone marked.
import { rmSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeDumpFiles, type DumpFiles } from '../app/helpers/dump-files.ts';
import { chromiumRequiredInCi, HAVE_CHROMIUM, openThroughUi, startBrowserSession, type BrowserSession } from './helpers.ts';

chromiumRequiredInCi();

describe.skipIf(!HAVE_CHROMIUM)('the Open view, in Chromium', () => {
  let files: DumpFiles;
  let other: DumpFiles;
  let session: BrowserSession;
  let page: Page;

  beforeAll(async () => {
    files = writeDumpFiles({ seed: 15 });
    other = writeDumpFiles({ seed: 16 });
    session = await startBrowserSession({ allowWrite: false });
    page = session.page;
  });
  afterAll(async () => {
    await session?.close();
    files?.cleanup();
    other?.cleanup();
  });

  test('a bad offset is said beside the field as it is typed, Open waits, and the message goes when it is fixed', async () => {
    await page.getByTestId('tab-open').click();
    await page.getByTestId('dump-path').fill(files.dumpPath);
    await page.getByTestId('dump-offset').fill('12zz');
    await expect.poll(async () => (await page.getByTestId('dump-offset-error').textContent()) ?? '').toMatch(/"12zz" is not a byte offset/);
    expect(await page.getByTestId('open').isDisabled()).toBe(true);
    await page.getByTestId('dump-offset').fill('0x8000');
    await expect.poll(() => page.getByTestId('dump-offset-error').count()).toBe(0);
    expect(await page.getByTestId('open').isDisabled()).toBe(false);
  });

  test('an open error is a sentence, and it goes away when the input changes', async () => {
    await page.getByTestId('dump-path').fill(`${files.dir}/no-such-dump.img`);
    await page.getByTestId('dump-offset').fill('');
    await page.getByTestId('open').click();
    const error = page.getByTestId('error');
    await expect.poll(async () => ((await error.count()) ? (await error.textContent()) ?? '' : '')).toMatch(/The file could not be opened.*no-such-dump\.img/s);
    await page.getByTestId('dump-path').fill(files.dumpPath);
    await expect.poll(() => error.count()).toBe(0);
  });

  test('Recent: only real opens, dump / kernel / offset apart, gone files marked, entries removable', async () => {
    await openThroughUi(page, files);
    // A kernel that is not an ELF file: the dump opens, but this is not a usable pairing to remember.
    await openThroughUi(page, { ...other, kernelPath: other.dumpPath });
    await openThroughUi(page, other);
    await page.getByTestId('tab-open').click();
    const rows = page.getByTestId('recent-entry');
    await expect.poll(() => rows.count()).toBe(2);
    expect(await rows.nth(0).getByTestId('recent-dump').textContent()).toBe(other.dumpPath);
    expect(await rows.nth(0).getByTestId('recent-kernel').textContent()).toBe(other.kernelPath);
    expect(await rows.nth(0).getByTestId('recent-offset').textContent()).toBe(String(other.dumpOffset));
    expect(await page.getByTestId('recent').textContent()).not.toContain(`kernel ${other.dumpPath}`);

    rmSync(files.dumpPath);
    await page.goto(session.url);
    await page.getByTestId('tab-open').click();
    await expect.poll(() => page.getByTestId('recent-gone').count()).toBe(1);
    await rows.nth(1).getByTestId('recent-remove').click();
    await expect.poll(() => rows.count()).toBe(1);
  });
});
