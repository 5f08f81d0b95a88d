// Issue 14 item 1: the Memory view's status line describes the cursor's own address, updated as it
// moves — on amd64 and on a 32-bit dump (i386-PAE). Reproduces the report: go to dumpmag, press ↓
// 20 times, then 300 more; the PA and file offset shown are the cursor's, with the bytes left in
// its page.
import { describe, expect, test } from 'vitest';
import { buildDumpImage } from '../fixtures/dump-image.ts';
import { writeFixture } from '../fixtures/cli.ts';
import { chromiumRequiredInCi, HAVE_CHROMIUM, openThroughUi, useBrowserSession } from './helpers.ts';

chromiumRequiredInCi();

describe.skipIf(!HAVE_CHROMIUM)('the status line follows the cursor, in Chromium', () => {
  const ui = useBrowserSession({ allowWrite: false });

  for (const flavour of ['amd64', 'i386pae'] as const) {
    test(`${flavour}: after go-to and after ↓ ×20 and ×300, PA and file offset are the cursor's`, async () => {
      const img = buildDumpImage({ flavour, seed: 12 });
      const f = await writeFixture(img, `status-${flavour}`);
      await ui.page.goto(ui.session.url);
      await openThroughUi(ui.page, { dumpPath: f.dump, kernelPath: f.kernel, dumpOffset: img.facts.dumpOff });
      await ui.page.getByTestId('tab-hex').click();
      await ui.page.getByTestId('goto-input').fill('dumpmag');
      await ui.page.getByTestId('goto-button').click();
      const dm = img.facts.symbols.dumpmag;
      const status = ui.page.getByTestId('hex-status');
      // The fixture's image offset of a PA in the same 4 KiB ui.page moves with it: fileOff + delta.
      const expectAt = async (delta: number) => {
        const pa = dm.pa + BigInt(delta);
        await expect.poll(async () => (await status.textContent()) ?? '', { timeout: 10_000 })
          .toContain(`PA 0x${pa.toString(16)}, file offset ${dm.fileOff + delta} `);
        const left = 4096 - Number((dm.pa + BigInt(delta)) % 4096n);
        if (flavour === 'amd64') expect(await status.textContent()).toMatch(new RegExp(`page: ${left} bytes left`));
      };
      await expectAt(0);
      for (let i = 0; i < 20; i++) await ui.page.keyboard.press('ArrowDown');
      await expect.poll(async () => (await status.textContent()) ?? '').toContain(`cursor 0x${(dm.va + 320n).toString(16)}`);
      await expectAt(320);
      for (let i = 0; i < 300; i++) await ui.page.keyboard.press('ArrowDown');
      await expect.poll(async () => (await status.textContent()) ?? '').toContain(`cursor 0x${(dm.va + 320n + 4800n).toString(16)}`);
      // Two pages on: the kernel's data is mapped contiguously, so the cursor's PA and offset still
      // move with it — now found through a new ui.page's translation.
      await expectAt(320 + 4800);
    });
  }
});

