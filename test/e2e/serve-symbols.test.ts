// Issue 14 item 8b: the Symbols view lists every symbol before anything is typed (only the visible
// rows in the DOM), sorts by name, address and size, says when nothing matches, and takes an
// address to show the symbol containing it as name+offset.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeDumpFiles, type DumpFiles } from '../app/helpers/dump-files.ts';
import { chromiumRequiredInCi, HAVE_CHROMIUM, openThroughUi, startBrowserSession, type BrowserSession } from './helpers.ts';

chromiumRequiredInCi();

describe.skipIf(!HAVE_CHROMIUM)('the Symbols view, in Chromium', () => {
  let files: DumpFiles;
  let session: BrowserSession;
  let page: Page;

  beforeAll(async () => {
    files = writeDumpFiles({ seed: 17 });
    session = await startBrowserSession({ allowWrite: false });
    page = session.page;
    await openThroughUi(page, files);
    await page.getByTestId('tab-symbols').click();
  });
  afterAll(async () => {
    await session?.close();
    files?.cleanup();
  });

  const names = async () => (await page.getByTestId('symbol-row').locator('.col.name').allTextContents()).filter((t) => t.trim() !== '');

  test('all symbols are listed at once, and only the visible rows are in the DOM', async () => {
    await expect.poll(async () => (await page.getByTestId('symbol-count').textContent()) ?? '').toMatch(/^\d+ symbols$/);
    const count = Number(((await page.getByTestId('symbol-count').textContent()) ?? '').split(' ')[0]);
    expect(count).toBeGreaterThan(30);
    await expect.poll(async () => (await names()).length).toBeGreaterThan(10);
    expect(await page.getByTestId('symbol-row').count()).toBeLessThanOrEqual(26);
    const byName = await names();
    expect(byName).toEqual([...byName].sort());
  });

  test('sorting by size (descending on a second click) and by address', async () => {
    await page.getByTestId('sort-size').click();
    await page.getByTestId('sort-size').click();
    await expect.poll(async () => (await page.getByTestId('symbol-row').locator('.col.size').allTextContents()).filter(Boolean).map(Number))
      .toSatisfy((sizes: number[]) => sizes.length > 5 && sizes.every((v, i) => i === 0 || sizes[i - 1]! >= v));
    await page.getByTestId('sort-address').click();
    await expect.poll(async () => (await page.getByTestId('symbol-row').locator('.col.value').allTextContents()).filter(Boolean).map((v) => BigInt(v)))
      .toSatisfy((vs: bigint[]) => vs.length > 5 && vs.every((v, i) => i === 0 || vs[i - 1]! <= v));
  });

  test('no match says so; an address shows its containing symbol as name+offset', async () => {
    await page.getByTestId('symbol-query').fill('no_such_symbol_anywhere');
    await expect.poll(async () => ((await page.getByTestId('symbol-none').count()) ? (await page.getByTestId('symbol-none').textContent()) ?? '' : ''))
      .toContain('No symbol matches “no_such_symbol_anywhere”');
    const hostname = files.image.facts.symbols.hostname;
    await page.getByTestId('symbol-query').fill(`0x${(hostname.va + 3n).toString(16)}`);
    await expect.poll(async () => (await names()).join(' ')).toContain('hostname+0x3');
  });
});
