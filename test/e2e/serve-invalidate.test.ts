// Export-then-invalidate in the browser, with writes allowed: the user ticks "invalidate", confirms
// what it does, and only after the archive is verified is dumpmag zeroed on the dump.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeDumpFiles, type DumpFiles } from '../app/helpers/dump-files.ts';
import { bytesAt, chromiumRequiredInCi, HAVE_CHROMIUM, openThroughUi, startBrowserSession, type BrowserSession } from './helpers.ts';

chromiumRequiredInCi();

for (const flavour of ['amd64', 'i386pae'] as const) describe.skipIf(!HAVE_CHROMIUM)(`${flavour}: export and invalidate, confirmed, in Chromium`, () => {
  let files: DumpFiles;
  let session: BrowserSession;
  let page: Page;

  beforeAll(async () => {
    files = writeDumpFiles({ seed: 2, flavour });
    session = await startBrowserSession({ allowWrite: true });
    page = session.page;
  });

  afterAll(async () => {
    await session?.close();
    files?.cleanup();
  });

  test('nothing is written before the confirmation; after it, the archive exists and dumpmag is zero', async () => {
    const dm = files.image.facts.symbols.dumpmag!;
    const long = flavour === 'amd64' ? 8 : 4; // kvm_dump_inval zeroes sizeof(u_long)
    const dumpmagBytes = () => readFileSync(files.dumpPath).subarray(dm.fileOff, dm.fileOff + long).toString('hex');
    const before = dumpmagBytes();
    await openThroughUi(page, files);
    // The Memory view has dumpmag's page cached before the export (issue 14 item 2).
    expect(await bytesAt(page, 'dumpmag', dm.va, 4)).toEqual(['01', '01', 'ca', '8f']);
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
    const coreRow = page.getByTestId('export-file-core').locator('td');
    const core = (await coreRow.nth(0).textContent()) ?? '';
    expect(core).toMatch(/netbsd\.0\.core(\.gz)?$/);
    expect(existsSync(core)).toBe(true);
    // The hash shown is the file's, and the page says what happened to the dump.
    expect(await coreRow.nth(2).textContent()).toBe(createHash('sha256').update(readFileSync(core)).digest('hex'));
    expect(await page.getByTestId('export-verified').textContent()).toMatch(/Verified: .*invalidated \(its dumpmag cleared\), after verification/s);
    expect(dumpmagBytes()).toBe('00'.repeat(long));
    // What is on disk now, not the cached page; and a banner says what was written, where.
    expect(await bytesAt(page, 'dumpmag', dm.va, 4)).toEqual(['00', '00', '00', '00']);
    const banner = await page.getByTestId('dump-write-banner').textContent();
    expect(banner).toContain(`wrote ${long} bytes at offset ${dm.fileOff} of ${files.dumpPath} (savecore invalidation)`);
  });
});
