// The crash summary in Chromium for a dump taken WITHOUT a panic and with pieces missing: the calm
// banner says so (with the reasons), the boot time and system rows are shown, a missing piece says
// why. Also: a dump opened with no kernel file gets its symbols from its own ksyms, and the Header
// view says where they came from.

import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeDumpFiles, type DumpFiles } from '../app/helpers/dump-files.ts';
import { simulateLog } from '../fixtures/msgbuf-model.ts';
import { chromiumRequiredInCi, HAVE_CHROMIUM, openThroughUi, startBrowserSession, type BrowserSession } from './helpers.ts';

chromiumRequiredInCi();

describe.skipIf(!HAVE_CHROMIUM)('the summary of a dump without a panic, in Chromium', () => {
  let calm: DumpFiles;
  let noKernel: DumpFiles;
  let oldKernel: DumpFiles;
  let session: BrowserSession;
  let page: Page;

  beforeAll(async () => {
    calm = writeDumpFiles({ seed: 7, triage: { panicstr: null, omitSymbols: ['hostname'], boottime: 1794700000n } });
    noKernel = writeDumpFiles({ seed: 8, triage: { ksyms: {}, panicstr: 'panic from a kernel nobody kept' } });
    // A kernel without panicstart/panicend/panicstr whose message buffer holds a panic line.
    const model = simulateLog({ flavour: 'amd64', runtimeBytes: 3000, panic: { format: 'kernel diagnostic assertion "x" failed' } });
    oldKernel = writeDumpFiles({ seed: 9, triage: { ...model.triage, omitSymbols: ['panicstart', 'panicend', 'panicstr'] } });
    session = await startBrowserSession({ allowWrite: false });
    page = session.page;
  });

  afterAll(async () => {
    await session?.close();
    calm?.cleanup();
    noKernel?.cleanup();
    oldKernel?.cleanup();
  });


  test('the calm banner, boot time, system, and a missing hostname that says why', async () => {
    await openThroughUi(page, calm);
    const banner = page.getByTestId('panic-banner');
    await expect.poll(async () => (await banner.textContent()) ?? '').toContain('No panic message');
    expect(await banner.textContent()).toContain('panicstart 0, panicend 0: not both non-zero');
    expect(await page.getByTestId('summary-boot-time').textContent()).toContain('2026-11-14T23:46:40.123Z'); // tv_sec + tv_nsec 123456789
    expect(await page.getByTestId('summary-system').textContent()).toContain('NetBSD 10.1');
    expect(await page.getByTestId('summary-hostname').textContent()).toMatch(/not available: .*hostname/);
    expect(session.errors).toEqual([]);
  });

  test('no kernel file: the summary still has the panic, and Header says the symbols came from the dump', async () => {
    await page.getByTestId('tab-open').click();
    await openThroughUi(page, { ...noKernel, kernelPath: '' });
    const banner = page.getByTestId('panic-banner');
    await expect.poll(async () => (await banner.textContent()) ?? '').toContain('panic from a kernel nobody kept');
    await page.getByTestId('tab-header').click();
    const table = page.getByTestId('header-summary');
    await expect.poll(async () => ((await table.count()) ? (await table.textContent()) ?? '' : ''))
      .toContain('no kernel file given: symbols from the crashed kernel\'s ksyms in the dump (2 tables)');
  });

  test('panic symbols missing: "not determined", never "without a panic", and the message buffer\'s panic line as found there', async () => {
    await page.getByTestId('tab-open').click();
    await openThroughUi(page, oldKernel);
    const banner = page.getByTestId('panic-banner');
    await expect.poll(async () => (await banner.textContent()) ?? '').toContain('Panic not determined');
    const text = (await banner.textContent())!;
    expect(text).toContain('symbol panicstart not in namelist');
    expect(text).not.toContain('without a panic');
    expect(await page.getByTestId('panic-msgbuf-line').textContent()).toContain('panic: kernel diagnostic assertion "x" failed');
  });
});
