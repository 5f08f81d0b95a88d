// The Memory view an analyst lives in (issue 10), end to end in Chromium through serve mode, on
// amd64, i386-PAE and aarch64 dumps: the same bytes at VA, PA and file offset when switching
// spaces; find a known string and a known pointer; follow a pointer and come back; the inspector;
// selection and copy; a bookmark that survives a reload; header field hover; the segments leading
// to the Memory view; and on a 4 GiB sparse dump, the scrollbar dragged to the end and back with
// only the visible rows in the DOM. Screenshots go to test/artifacts/ (git-ignored).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { buildDumpImage, type DumpImage } from '../fixtures/dump-image.ts';
import { LAYOUTS } from '../fixtures/kernel-layout.ts';
import { writeFixture } from '../fixtures/cli.ts';
import { chromiumRequiredInCi, HAVE_CHROMIUM, openThroughUi, useBrowserSession } from './helpers.ts';

chromiumRequiredInCi();

const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts');
mkdirSync(ARTIFACTS, { recursive: true });
const hex = (v: bigint) => `0x${v.toString(16)}`;

async function cellsAt(page: Page, address: bigint, count: number): Promise<string[]> {
  const row = page.locator(`[data-address="${hex(address - (address % 16n))}"] .bytes .cell`);
  await expect.poll(async () => row.count(), { timeout: 10_000 }).toBe(16);
  const first = Number(address % 16n);
  await expect.poll(async () => (await row.nth(first).textContent())?.trim(), { timeout: 10_000 }).not.toBe('');
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push((await row.nth(first + i).textContent())!.trim());
  return out;
}

const cursorText = async (page: Page) => (await page.getByTestId('hex-status').locator('.mono').first().textContent()) ?? '';

async function goto(page: Page, target: string) {
  await page.getByTestId('goto-input').fill(target);
  await page.getByTestId('goto-button').click();
}

describe.skipIf(!HAVE_CHROMIUM)('the Memory view in Chromium', () => {
  const ui = useBrowserSession({ allowWrite: false });

  for (const flavour of ['amd64', 'i386pae', 'aarch64'] as const) {
    describe(flavour, () => {
      let img: DumpImage;
      let files: { dump: string; kernel: string };
      beforeAll(async () => {
        img = buildDumpImage({ flavour, seed: 21 });
        files = await writeFixture(img, `viewer-${flavour}`);
      });

      test('the same bytes at VA, PA and file offset, switching spaces with the cursor kept', async () => {
        await ui.page.goto(ui.session.url);
        await openThroughUi(ui.page, { dumpPath: files.dump, kernelPath: files.kernel, dumpOffset: img.facts.dumpOff });
        await ui.page.getByTestId('tab-hex').click();
        const dm = img.facts.symbols.dumpmag!;
        // Go-to completes symbol names as they are typed.
        await ui.page.getByTestId('goto-input').fill('dumpm');
        await expect.poll(() => ui.page.locator('#goto-symbols option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value))).toContain('dumpmag');
        await goto(ui.page, 'dumpmag');
        expect(await cellsAt(ui.page, dm.va, 4)).toEqual(['01', '01', 'ca', '8f']);
        await expect.poll(() => ui.page.getByTestId('cursor-symbol').textContent()).toBe('<dumpmag>');
        await ui.page.getByTestId('space-physical').click();
        await expect.poll(() => cursorText(ui.page)).toBe(`cursor ${hex(dm.pa)}`);
        expect(await cellsAt(ui.page, dm.pa, 4)).toEqual(['01', '01', 'ca', '8f']);
        await ui.page.getByTestId('space-file').click();
        await expect.poll(() => cursorText(ui.page)).toBe(`cursor ${hex(BigInt(dm.fileOff))}`);
        expect(await cellsAt(ui.page, BigInt(dm.fileOff), 4)).toEqual(['01', '01', 'ca', '8f']);
        await ui.page.screenshot({ path: join(ARTIFACTS, `viewer-${flavour}-file.png`) });
        await ui.page.getByTestId('space-virtual').click();
        const direct = LAYOUTS[flavour].directMap;
        if (direct) {
          // Back in VA through the direct map, which maps the same byte.
          await expect.poll(() => cursorText(ui.page)).toBe(`cursor ${hex(direct.base + dm.pa)}`);
          expect(await cellsAt(ui.page, direct.base + dm.pa, 4)).toEqual(['01', '01', 'ca', '8f']);
        } else {
          await expect.poll(() => ui.page.getByTestId('space-notice').textContent()).toMatch(/has no kernel VA: no direct-map VA.*showing 0x[0-9a-f]+, where this space was last/);
          expect(await cursorText(ui.page)).toBe(`cursor ${hex(dm.va)}`);
        }
        if (direct) {
          await ui.page.getByTestId('history-back').click();
          await expect.poll(() => cursorText(ui.page)).toBe(`cursor ${hex(BigInt(dm.fileOff))}`);
        }
        await ui.page.getByTestId('space-virtual').click();
        await goto(ui.page, 'dumpmag');
        // The translation panel: every level of the walk, then PA and file offset.
        await ui.page.getByTestId('side-translation').click();
        await expect.poll(() => ui.page.getByTestId('where-physical').textContent()).toContain(hex(dm.pa));
        expect(await ui.page.getByTestId('walk-table').locator('tbody tr').count()).toBe(img.facts.pageTables.entrySlots(dm.va).length);
        expect((await ui.page.getByTestId('where-file').textContent())).toContain(String(dm.fileOff));
        await ui.page.screenshot({ path: join(ARTIFACTS, `viewer-${flavour}-translation.png`) });
      });

      test('the inspector decodes the cursor; a selection copies as hex and C', async () => {
        await ui.page.getByTestId('side-inspector').click();
        await expect.poll(() => ui.page.getByTestId('inspect-u32-le').textContent()).toContain(`${0x8fca0101} (0x8fca0101)`);
        expect(await ui.page.getByTestId('inspect-u32-be').textContent()).toContain('(0x0101ca8f)');
        await ui.page.getByTestId('hexgrid').focus();
        for (let i = 0; i < 3; i++) await ui.page.keyboard.press('Shift+ArrowRight');
        await expect.poll(() => ui.page.getByTestId('selection-range').textContent()).toContain('selected 4 bytes');
        await ui.page.getByTestId('copy-hex').click();
        await expect.poll(() => ui.page.getByTestId('copied-text').textContent()).toBe('01 01 ca 8f');
        await ui.page.getByTestId('copy-c').click();
        await expect.poll(() => ui.page.getByTestId('copied-text').textContent()).toContain('unsigned char data[4] = {\n  0x01, 0x01, 0xca, 0x8f\n};');
        await ui.page.keyboard.press('Escape');
        await expect.poll(() => ui.page.getByTestId('selection-bar').count()).toBe(0);
        // A mouse drag over four cells selects them too.
        const dm = img.facts.symbols.dumpmag!;
        const cells = ui.page.locator(`[data-address="${hex(dm.va - (dm.va % 16n))}"] .bytes .cell`);
        const first = Number(dm.va % 16n);
        await cells.nth(first).hover();
        await ui.page.mouse.down();
        await cells.nth(first + 3).hover();
        await ui.page.mouse.up();
        await expect.poll(() => ui.page.getByTestId('selection-range').textContent()).toContain(`selected 4 bytes: ${hex(dm.va)}–${hex(dm.va + 3n)}`);
        await ui.page.keyboard.press('Escape');
        // The gutter names a symbol that starts on the row (the last one starting there).
        const rowVa = dm.va - (dm.va % 16n);
        const startingHere = Object.entries(img.facts.symbols).filter(([, f]) => f.va >= rowVa && f.va < rowVa + 16n).map(([n]) => n);
        expect(startingHere).toContain('dumpmag');
        await expect.poll(async () => startingHere.includes((await ui.page.locator(`[data-address="${hex(rowVa)}"] [data-testid="gutter"]`).textContent()) ?? '')).toBe(true);
      });

      test('find a known string and a known pointer; follow the pointer and come back', async () => {
        const host = `crashbox-21.example.org`;
        await ui.page.keyboard.press('Control+f');
        await ui.page.getByTestId('find-kind').selectOption('ascii');
        await ui.page.getByTestId('find-space').selectOption('virtual');
        await ui.page.getByTestId('find-input').fill(host);
        await ui.page.getByTestId('find-start').click();
        await expect.poll(() => ui.page.getByTestId('find-count').textContent(), { timeout: 30_000 }).toMatch(/^\s*[1-9]\d* match/);
        const hits = await ui.page.getByTestId('find-hit').allTextContents();
        expect(hits).toContain(hex(img.facts.symbols.hostname!.va));
        // A pointer: msgbufp holds the message buffer's VA.
        const msgbufVa = LAYOUTS[flavour].msgbufVa;
        await ui.page.getByTestId('find-kind').selectOption('pointer');
        await ui.page.getByTestId('find-input').fill(hex(msgbufVa));
        await ui.page.getByTestId('find-start').click();
        await expect.poll(() => ui.page.getByTestId('find-count').textContent(), { timeout: 30_000 }).toMatch(/match(es)? for pointer:/);
        expect(await ui.page.getByTestId('find-hit').allTextContents()).toContain(hex(img.facts.symbols.msgbufp!.va));
        await ui.page.screenshot({ path: join(ARTIFACTS, `viewer-${flavour}-find.png`) });
        // Follow msgbufp (Enter on the grid) and come back (Alt+←).
        await goto(ui.page, 'msgbufp');
        await expect.poll(() => cursorText(ui.page)).toBe(`cursor ${hex(img.facts.symbols.msgbufp!.va)}`);
        await ui.page.getByTestId('hexgrid').focus();
        await ui.page.keyboard.press('Enter');
        await expect.poll(() => cursorText(ui.page)).toBe(`cursor ${hex(msgbufVa)}`);
        await ui.page.keyboard.press('Alt+ArrowLeft');
        await expect.poll(() => cursorText(ui.page)).toBe(`cursor ${hex(img.facts.symbols.msgbufp!.va)}`);
      });

      test('a bookmark is still there after a reload', async () => {
        await ui.page.getByTestId('hexgrid').focus();
        await ui.page.keyboard.press('Control+b');
        await ui.page.getByTestId('bookmark-name').fill(`msgbufp on ${flavour}`);
        await ui.page.getByTestId('bookmark-note').fill('where the ring is');
        await ui.page.getByTestId('bookmark-save').click();
        await expect.poll(() => ui.page.getByTestId('bookmark-item').allTextContents()).toEqual([expect.stringContaining(`msgbufp on ${flavour}`)]);
        await ui.page.reload();
        await ui.page.getByTestId('side-bookmarks').click();
        await expect.poll(() => ui.page.getByTestId('bookmark-item').allTextContents(), { timeout: 10_000 }).toEqual([expect.stringContaining('where the ring is')]);
        await goto(ui.page, 'dumpmag');
        await ui.page.getByTestId('bookmark-item').getByRole('button').first().click();
        await expect.poll(() => cursorText(ui.page)).toBe(`cursor ${hex(img.facts.symbols.msgbufp!.va)}`);
      });

      test('header field hover highlights its bytes; a segment opens the Memory view in PA and file space', async () => {
        await ui.page.getByTestId('tab-header').click();
        const field = ui.page.getByTestId('header-field-kcore_seg (CPU).c_size');
        await field.hover();
        const lit = ui.page.locator('[data-testid^="header-byte-"].hi');
        await expect.poll(() => lit.count()).toBe(4);
        expect(await lit.first().getAttribute('data-testid')).toBe('header-byte-4');
        await ui.page.getByTestId('header-byte-0').hover();
        await expect.poll(() => ui.page.locator('tr.hi').textContent()).toContain('c_midmag');
        await ui.page.screenshot({ path: join(ARTIFACTS, `viewer-${flavour}-header.png`) });
        await ui.page.getByTestId('tab-segments').click();
        const seg0 = img.facts.segments[0]!;
        await ui.page.getByTestId('segment-0-physical').click();
        await expect.poll(() => cursorText(ui.page)).toBe(`cursor ${hex(seg0.start)}`);
        expect(await ui.page.getByTestId('space-physical').getAttribute('aria-selected')).toBe('true');
        await ui.page.getByTestId('tab-segments').click();
        await ui.page.getByTestId('segment-0-file').click();
        await expect.poll(() => cursorText(ui.page)).toBe(`cursor ${hex(BigInt(img.facts.memOff))}`);
        expect(ui.session.errors).toEqual([]);
      });
    });
  }

  test('light and dark themes follow the system; columns line up exactly in both', async () => {
    const colours: string[] = [];
    for (const scheme of ['light', 'dark'] as const) {
      await ui.page.emulateMedia({ colorScheme: scheme });
      await ui.page.getByTestId('tab-hex').click();
      await ui.page.getByTestId('space-virtual').click();
      await goto(ui.page, 'dumpmag');
      const rows = ui.page.getByTestId('hexgrid').locator('[data-address]');
      await expect.poll(() => rows.count()).toBe(24);
      colours.push(await ui.page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor));
      for (const sel of ['.bytes .cell', '.text > span']) {
        const xs = async (r: number) => rows.nth(r).locator(sel).evaluateAll((els) => els.map((e) => Math.round(e.getBoundingClientRect().left * 10) / 10));
        const first = await xs(0);
        expect(first.length).toBe(16);
        for (const r of [1, 7, 23]) expect(await xs(r)).toEqual(first);
      }
      await ui.page.screenshot({ path: join(ARTIFACTS, `viewer-theme-${scheme}.png`) });
    }
    expect(colours[0]).not.toBe(colours[1]);
    await ui.page.emulateMedia({ colorScheme: 'light' });
  });

  describe('a 4 GiB sparse dump', () => {
    test('drag the scrollbar to the end and back; the DOM holds only the visible rows; next region skips the hole', async () => {
      const img = buildDumpImage({ flavour: 'amd64', seed: 22, memMiB: 64, highMiB: 4096 });
      expect(img.size).toBeGreaterThan(4 * 2 ** 30);
      const files = await writeFixture(img, 'viewer-4g');
      await ui.page.goto(ui.session.url);
      await openThroughUi(ui.page, { dumpPath: files.dump, kernelPath: files.kernel, dumpOffset: img.facts.dumpOff });
      await ui.page.getByTestId('tab-hex').click();
      const rows = ui.page.getByTestId('hexgrid').locator('[data-address]');
      const firstRow = async () => BigInt((await rows.first().getAttribute('data-address'))!);
      for (const space of ['file', 'virtual', 'physical'] as const) {
        await ui.page.getByTestId(`space-${space}`).click();
        await goto(ui.page, '0x0');
        await expect.poll(() => ui.page.getByTestId('hex-minimap-band').count()).toBeGreaterThan(0);
        const thumb = ui.page.getByTestId('hex-scroll-thumb');
        const track = await ui.page.getByTestId('hex-scrollbar').boundingBox();
        const box = await thumb.boundingBox();
        await ui.page.mouse.move(box!.x + box!.width / 2, box!.y + 5);
        await ui.page.mouse.down();
        await ui.page.mouse.move(box!.x + box!.width / 2, track!.y + track!.height + 50, { steps: 8 });
        await ui.page.mouse.up();
        const limit = space === 'file' ? BigInt(img.size) : 1n << 64n;
        const lastTop = limit - 24n * 16n;
        await expect.poll(firstRow, { timeout: 10_000 }).toBe(lastTop - (lastTop % 16n));
        expect(await rows.count()).toBe(24);
        const b2 = await thumb.boundingBox();
        await ui.page.mouse.move(b2!.x + b2!.width / 2, b2!.y + 5);
        await ui.page.mouse.down();
        await ui.page.mouse.move(b2!.x + b2!.width / 2, track!.y - 50, { steps: 8 });
        await ui.page.mouse.up();
        await expect.poll(firstRow, { timeout: 10_000 }).toBe(0n);
        expect(await rows.count()).toBe(24);
        expect(await ui.page.locator('.hexgrid [data-address] .cell').count()).toBe(24 * 16);
      }
      // In PA the hole between 64 MiB and 4 GiB is skipped by "next region".
      await goto(ui.page, '0x3fff000');
      await ui.page.getByTestId('region-next').click();
      await expect.poll(() => cursorText(ui.page)).toBe(`cursor ${hex(0x100000000n)}`);
      await ui.page.screenshot({ path: join(ARTIFACTS, 'viewer-4g-physical.png') });
      expect(ui.session.errors).toEqual([]);
    });
  });
});
