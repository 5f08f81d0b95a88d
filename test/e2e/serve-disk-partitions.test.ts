// Issue 15 in Chromium: a whole disk in the Devices list is expanded into its partitions, the swap
// partition says what dump it holds ("partition 2 'swap': amd64 dump, 16 MiB, crashed …, not yet
// saved"), and one click opens it; an E01 image typed into the Open view does the same through
// "Find dumps". The dump holds its kernel's ksyms, so no kernel file is needed anywhere.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readPartitionMap } from '../../core/partitions/index.ts';
import { FileSource } from '../fixtures/file-source.ts';
import { haveTools, run } from '../fixtures/disk-tools.ts';
import { placeDump, sparseDisk } from '../fixtures/disk-image.ts';
import type { DumpImage } from '../fixtures/dump-image.ts';
import { bytesAt, chromiumRequiredInCi, HAVE_CHROMIUM, startBrowserSession, type BrowserSession } from './helpers.ts';

chromiumRequiredInCi();

const MiB = 1 << 20;
const SUMMARY = "partition 2 'swap': amd64 dump, 16 MiB, crashed 2026-11-18 11:06 UTC, not yet saved";

describe.skipIf(!HAVE_CHROMIUM || !haveTools('sgdisk', 'ewfacquire'))('whole disks and images in Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kvmdump-e2e-disk-'));
  const disk = join(dir, 'disk.img');
  let img: DumpImage;
  let dumplo = 0;
  let session: BrowserSession;
  let page: Page;

  beforeAll(async () => {
    await sparseDisk(disk, 128 * MiB);
    run('sgdisk', ['-n', '1:2048:+48M', '-t', '1:49F48D5A-B10E-11DC-B99B-0019D1879648', '-c', '1:root',
      '-n', '2:0:0', '-t', '2:49F48D32-B10E-11DC-B99B-0019D1879648', '-c', '2:swap', disk]);
    const src = await FileSource.open(disk);
    const swap = (await readPartitionMap(src)).partitions[1];
    await src.close();
    ({ img, dumplo } = await placeDump(disk, swap, { flavour: 'amd64', seed: 61, triage: { ksyms: { modules: 1 } } }));
    writeFileSync(join(dir, 'unused-kernel'), img.kernel);
    run('ewfacquire', ['-u', '-q', '-t', join(dir, 'disk'), '-c', 'deflate:fast', '-S', String(8 * MiB), disk]);
    session = await startBrowserSession({
      allowWrite: false,
      devices: () => [
        { path: disk, name: 'sdz', kind: 'disk', size: 128 * MiB, model: 'USB dock', removable: true, readable: true, accessHint: null, headers: [], parent: null },
      ],
    });
    page = session.page;
  }, 120_000);

  afterAll(async () => {
    await session?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the Devices list shows the disk's partitions and the dump in partition 2, and one click opens it", async () => {
    await page.getByTestId('tab-open').click();
    const parts = page.getByTestId('device-partition');
    await expect.poll(() => parts.count(), { timeout: 30_000 }).toBe(2);
    expect(await parts.nth(0).textContent()).toContain("partition 1 'root'");
    expect(await parts.nth(1).textContent()).toContain('NetBSD swap');
    expect(await parts.nth(1).getByTestId('device-dump').textContent()).toBe(SUMMARY);
    await parts.nth(1).getByTestId('device-dump-open').click();
    await page.getByTestId('summary-view').or(page.getByTestId('header-summary')).waitFor();
    const mag = img.facts.symbols.dumpmag;
    expect(await bytesAt(page, 'dumpmag', mag.va, 4)).toEqual(['01', '01', 'ca', '8f']);
    expect(await page.getByTestId('open-partition').textContent()).toBe('partition 2');
    // Opened as NetBSD would see it: the partition, with dumplo relative to it.
    await page.getByTestId('tab-open').click();
    expect(await page.getByTestId('dump-path').inputValue()).toBe(disk);
    expect(await page.getByTestId('partition').inputValue()).toBe('2');
    expect(await page.getByTestId('dump-offset').inputValue()).toBe(String(dumplo * 512));
    expect(session.errors).toEqual([]);
  });

  test('an E01 image typed into the Open view: Find dumps lists its partitions and the dump, and Open opens it', async () => {
    await page.getByTestId('tab-open').click();
    await page.getByTestId('dump-path').fill(join(dir, 'disk.E01'));
    await page.getByTestId('partition').fill('');
    await page.getByTestId('dump-offset').fill('');
    await page.getByTestId('survey').click();
    const results = page.getByTestId('survey-results');
    await results.waitFor({ timeout: 30_000 });
    expect(await results.locator('h2').textContent()).toMatch(/disk\.E01: 128 MiB, GPT \(E01 image, \d+ files\)/);
    expect(await results.getByTestId('survey-dump').textContent()).toContain(SUMMARY);
    await results.getByTestId('survey-dump-open').click();
    await page.getByTestId('summary-view').or(page.getByTestId('header-summary')).waitFor();
    expect(await bytesAt(page, 'dumpmag', img.facts.symbols.dumpmag.va, 4)).toEqual(['01', '01', 'ca', '8f']);
    expect(session.errors).toEqual([]);
  });
});
