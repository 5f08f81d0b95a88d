// The workbench in Chromium against serve mode: open a dump through the Open view, see the header
// fields, read dumpmag in the memory view (01 01 ca 8f), see an unmapped page as a fault, and
// leave a screenshot in /tmp for a person to look at.

import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { simulateLog } from '../fixtures/msgbuf-model.ts';
import { writeDumpFiles, type DumpFiles } from '../app/helpers/dump-files.ts';
import { bytesAt, chromiumRequiredInCi, HAVE_CHROMIUM, openThroughUi, startBrowserSession, type BrowserSession } from './helpers.ts';

/** A dump that panicked in a page fault, with the message buffer the kernel would leave. */
const PANIC_LOG = simulateLog({
  flavour: 'amd64', seed: 3, runtimeBytes: 3000,
  panic: { format: 'trap', before: ['uvm_fault(0xffffffff81a3c0c0, 0x0, 1) -> e', 'fatal page fault in supervisor mode'] },
});
/** The same length as the fixture's version line, so the other kernel's symbols keep their addresses. */
const OTHER_VERSION = 'NetBSD 10.0 (GENERIC) #0: Mon Dec 16 13:08:11 UTC 2024\n\tmkrepro@mkrepro.NetBSD.org:/usr/src/sys/arch/amd64/compile/GENERIC\n';

chromiumRequiredInCi();

/**
 * Hold back the reply of a job-starting call, so the job's events (on the separate event stream)
 * arrive before the page knows the job's id: what a loaded CI machine once did by chance.
 */
async function delayReply(page: Page, op: string, ms = 700): Promise<() => Promise<void>> {
  const pattern = `**/api/${op}`;
  await page.route(pattern, async (route) => {
    const reply = await route.fetch();
    await new Promise((r) => setTimeout(r, ms));
    await route.fulfill({ response: reply });
  });
  return () => page.unroute(pattern);
}

describe.skipIf(!HAVE_CHROMIUM)('serve mode in Chromium', () => {
  let files: DumpFiles;
  let session: BrowserSession;
  let page: Page;

  beforeAll(async () => {
    files = writeDumpFiles({ seed: 1, triage: PANIC_LOG.triage });
    session = await startBrowserSession({ allowWrite: false });
    page = session.page;
  });

  afterAll(async () => {
    await session?.close();
    files?.cleanup();
  });

  test('opening a dump shows the crash summary first, the panic message leading', async () => {
    await page.getByTestId('dump-path').waitFor();
    await page.screenshot({ path: '/tmp/kvmdump-e2e-open.png' });
    // Opening is a job too: its end must not be lost when it overtakes the reply naming the job.
    const release = await delayReply(page, 'startOpen');
    await openThroughUi(page, files);
    await release();
    const banner = page.getByTestId('panic-banner');
    await expect.poll(async () => (await banner.textContent()) ?? '').toContain(PANIC_LOG.expect.panicMessage!);
    expect(await page.getByTestId('tab-summary').getAttribute('aria-current')).toBe('page');
    expect(await page.getByTestId('version-warning').count()).toBe(0);
  });

  test('the message buffer can be searched', async () => {
    const total = Number((await page.getByTestId('msgbuf-count').textContent())!.match(/of (\d+)/)![1]);
    await page.getByTestId('msgbuf-search').fill('FATAL PAGE FAULT');
    await expect.poll(async () => (await page.getByTestId('msgbuf-count').textContent()) ?? '').toBe(`1 of ${total} lines`);
    expect(await page.getByTestId('msgbuf').textContent()).toContain('fatal page fault in supervisor mode');
    await page.screenshot({ path: '/tmp/kvmdump-e2e-summary-panic.png' });
    await page.getByTestId('msgbuf-search').fill('');
  });

  test('the header view shows the header fields', async () => {
    await page.getByTestId('tab-header').click();
    const summary = page.getByTestId('header-summary');
    await expect.poll(() => summary.textContent()).toContain('amd64');
    expect(await summary.textContent()).toContain(`${files.image.facts.memOff}`);
    expect(await page.getByTestId('kcore-fields').textContent()).toContain('0x8fca');
    expect(await page.getByTestId('cpu-fields').textContent()).toContain('ptdpaddr');
    await page.screenshot({ path: '/tmp/kvmdump-e2e-header.png' });
  });

  test('the segment map lists every segment with its file offset', async () => {
    await page.getByTestId('tab-segments').click();
    const rows = page.getByTestId('segment-table').locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(files.image.facts.segments.length);
    expect(await rows.first().textContent()).toContain(String(files.image.facts.memOff));
    await page.screenshot({ path: '/tmp/kvmdump-e2e-segments.png' });
  });

  test('memory at symbol dumpmag reads 01 01 ca 8f through translation', async () => {
    const va = files.image.facts.symbols.dumpmag!.va;
    expect(await bytesAt(page, 'dumpmag', va, 4)).toEqual(['01', '01', 'ca', '8f']);
    await expect.poll(() => page.getByTestId('hex-status').textContent()).toContain('PA 0x');
    await page.screenshot({ path: '/tmp/kvmdump-e2e-hex.png' });
  });

  test('keyboard: PageDown moves a screen, g focuses go-to', async () => {
    const grid = page.getByTestId('hexgrid');
    const firstRow = async () => grid.locator('[data-address]').first().getAttribute('data-address');
    const before = BigInt((await firstRow())!);
    await grid.focus();
    await page.keyboard.press('PageDown');
    await expect.poll(async () => BigInt((await firstRow())!)).toBe(before + 24n * 16n);
    await page.keyboard.press('PageUp');
    await expect.poll(async () => BigInt((await firstRow())!)).toBe(before);
    await page.keyboard.press('g');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('goto-input');
  });

  test('an unmapped page shows as a fault with its address and reason, never zeros', async () => {
    await page.getByTestId('goto-input').fill('0x1000');
    await page.getByTestId('goto-button').click();
    const row = page.locator('[data-address="0x1000"]');
    await expect.poll(() => row.textContent()).toContain('unmapped');
    const text = (await row.textContent())!;
    expect(text).toMatch(/0x1000: unmapped: PML4E \(level 4\) at PA 0x[0-9a-f]+ is not present/);
    expect(text).not.toMatch(/\b00 00\b/);
    await page.screenshot({ path: '/tmp/kvmdump-e2e-fault.png' });
  });

  test('symbol search finds dumpmag', async () => {
    await page.getByTestId('tab-symbols').click();
    await page.getByTestId('symbol-query').fill('dumpmag');
    await expect.poll(() => page.getByTestId('symbol-results').textContent()).toContain('dumpmag');
  });

  test('the summary shows the crash state read from the dump', async () => {
    await page.getByTestId('tab-summary').click();
    const summary = page.getByTestId('summary');
    await expect.poll(async () => (await summary.textContent()) ?? '').toContain('NetBSD');
    expect(await page.getByTestId('msgbuf').textContent()).toBeTruthy();
    await page.screenshot({ path: '/tmp/kvmdump-e2e-summary.png' });
  });

  test('export runs savecore with progress and lists the files it wrote', async () => {
    await page.getByTestId('tab-export').click();
    // Read-only app: invalidation is offered but disabled, with the reason.
    expect(await page.getByTestId('export-invalidate').isDisabled()).toBe(true);
    expect(await page.getByTestId('export-readonly-hint').textContent()).toContain('--allow-write');
    await page.locator('#outdir').fill(files.dir);
    const release = await delayReply(page, 'startSavecore');
    await page.getByRole('button', { name: 'Start' }).click();
    await expect.poll(async () => (await page.getByTestId('export-state').textContent()) ?? '', { timeout: 60_000 }).toMatch(/done|failed|cancelled/);
    await release();
    expect(await page.getByTestId('export-state').textContent()).toContain('done');
    expect(await page.getByTestId('export-file-core').textContent()).toMatch(/netbsd\.\d+\.core\.gz/);
    expect(await page.getByTestId('export-verified').textContent()).toContain('left valid'); // read-only app: no invalidation
    expect(await page.getByTestId('export-memory-sha256').textContent()).toMatch(/^[0-9a-f]{64}$/);
    await page.screenshot({ path: '/tmp/kvmdump-e2e-export.png' });
  });

  test('a wrong dump offset shows the failure with its offset and field', async () => {
    await page.getByTestId('tab-open').click();
    await openThroughUi(page, { ...files, dumpOffset: 512 });
    const box = page.getByTestId('error');
    await expect.poll(() => box.textContent()).toContain('invalid magic in cpu_hdr');
    expect(await box.textContent()).toContain('kcore_seg.c_midmag.magic');
    expect(await box.textContent()).toMatch(/offset\s*514/);
    await page.screenshot({ path: '/tmp/kvmdump-e2e-bad-offset.png' });
  });

  test('Scan finds the dump header as a job and fills in the offset', async () => {
    await page.getByTestId('tab-open').click();
    await page.getByTestId('dump-path').fill(files.dumpPath);
    await page.getByTestId('dump-offset').fill('');
    const release = await delayReply(page, 'startScan');
    try {
      await page.getByTestId('scan').click();
      const results = page.getByTestId('scan-results');
      await expect.poll(async () => ((await results.count()) > 0 ? (await results.textContent()) ?? '' : ''), { timeout: 30_000 }).toContain(String(files.dumpOffset));
      await results.getByRole('button', { name: 'Use' }).click();
      expect(await page.getByTestId('dump-offset').inputValue()).toBe(String(files.dumpOffset));
      await page.screenshot({ path: '/tmp/kvmdump-e2e-scan.png' });
    } finally {
      await release();
    }
  });

  test('a kernel file of another build is called out on the summary', async () => {
    const other = writeDumpFiles({ seed: 1, triage: PANIC_LOG.triage, kernelFrom: { ...PANIC_LOG.triage, version: OTHER_VERSION } });
    try {
      await page.getByTestId('tab-open').click();
      await openThroughUi(page, other);
      const warning = page.getByTestId('version-warning');
      await expect.poll(async () => (await warning.count()) > 0 ? (await warning.textContent()) ?? '' : '').toContain('version mismatch');
      expect(await warning.textContent()).toContain('NetBSD 10.0');
      await page.screenshot({ path: '/tmp/kvmdump-e2e-version-mismatch.png' });
    } finally {
      other.cleanup();
    }
  });

  test('no console errors, no CSP violations', () => {
    expect(session.errors).toEqual([]);
  });
});
