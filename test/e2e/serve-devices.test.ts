// The device list in Chromium: a device whose dump is not at its start (NetBSD writes it at the end
// of the swap partition) offers a whole-device scan that finds it; a device this user may not
// read says how to get access, in the row itself.

import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeDumpFiles, type DumpFiles } from '../app/helpers/dump-files.ts';
import { chromiumRequiredInCi, HAVE_CHROMIUM, startBrowserSession, type BrowserSession } from './helpers.ts';

chromiumRequiredInCi();

describe.skipIf(!HAVE_CHROMIUM)('devices in Chromium', () => {
  let files: DumpFiles;
  let session: BrowserSession;
  let page: Page;
  const hint = 'add yourself to the disk group (sudo usermod -aG disk $USER) and log in again';

  beforeAll(async () => {
    // dumplo 4096 blocks: the header at 2 MiB, far past the 64 KiB the cheap probe reads.
    files = writeDumpFiles({ seed: 3, dumplo: 4096 });
    session = await startBrowserSession({
      allowWrite: false,
      devices: () => [
        { path: files.dumpPath, name: 'sdz1', kind: 'partition', size: files.image.size, model: null, removable: true, readable: true, accessHint: null, headers: [], parent: null },
        { path: '/dev/sdy1', name: 'sdy1', kind: 'partition', size: 1 << 30, model: null, removable: false, readable: false, accessHint: hint, headers: [], parent: null },
      ],
    });
    page = session.page;
  });

  afterAll(async () => {
    await session?.close();
    files?.cleanup();
  });

  test('"Scan whole device" finds a dump past the probe window and fills in its offset', async () => {
    expect(files.dumpOffset).toBe(4096 * 512);
    await page.getByTestId('device-scan').first().click();
    const results = page.getByTestId('scan-results');
    await expect.poll(async () => ((await results.count()) > 0 ? (await results.textContent()) ?? '' : ''), { timeout: 30_000 }).toContain(String(files.dumpOffset));
    expect(await page.getByTestId('dump-path').inputValue()).toBe(files.dumpPath);
    await results.getByRole('button', { name: 'Use' }).click();
    expect(await page.getByTestId('dump-offset').inputValue()).toBe(String(files.dumpOffset));
    expect(session.errors).toEqual([]);
  });

  test('an unreadable device shows how to get access in its row', async () => {
    const shown = page.getByTestId('device-access-hint');
    expect(await shown.count()).toBe(1);
    expect(await shown.textContent()).toContain(hint);
  });
});
