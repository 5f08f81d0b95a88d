// Shared e2e set-up: the built renderer (built on demand), Chromium from the system, and how to
// drive the workbench's views the way a user does.

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Page } from 'playwright-core';
import { packageRoot, rendererDir } from '../../main/app/paths.ts';

export const CHROMIUM = process.env.KVMDUMP_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'];

function newestSource(dir: string): number {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir, { withFileTypes: true }).reduce((t, e) => {
    const p = join(dir, e.name);
    return Math.max(t, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }, 0);
}

/** out/renderer, (re)built with electron-vite when missing or older than the renderer sources. */
export function ensureRendererBuilt(): string {
  const dir = rendererDir();
  const index = join(dir, 'index.html');
  const sources = Math.max(newestSource(join(packageRoot(), 'renderer')), newestSource(join(packageRoot(), 'contract')));
  if (!existsSync(index) || statSync(index).mtimeMs < sources) {
    execFileSync('npx', ['electron-vite', 'build'], { cwd: packageRoot(), stdio: 'inherit' });
  }
  return dir;
}

export interface OpenRequest {
  kernelPath: string;
  dumpPath: string;
  dumpOffset: number;
}

/** Fill the Open form and open the dump; resolves on the Summary view (or the Header view when it failed). */
export async function openThroughUi(page: Page, req: OpenRequest): Promise<void> {
  await page.getByTestId('dump-path').fill(req.dumpPath);
  await page.getByTestId('kernel-path').fill(req.kernelPath);
  await page.getByTestId('dump-offset').fill(String(req.dumpOffset));
  await page.getByTestId('open').click();
  await page.getByTestId('summary-view').or(page.getByTestId('header-summary')).waitFor();
}

/** Go to an address or symbol in the Memory view; returns the bytes shown from there on. */
export async function bytesAt(page: Page, target: string, va: bigint, count: number): Promise<string[]> {
  await page.getByTestId('tab-hex').click();
  await page.getByTestId('goto-input').fill(target);
  await page.getByTestId('goto-button').click();
  const rowAddress = va - (va % 16n);
  const row = page.locator(`[data-address="0x${rowAddress.toString(16)}"] .bytes .cell`);
  await expect.poll(async () => (await row.count())).toBe(16);
  const first = Number(va % 16n);
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push((await row.nth(first + i).textContent())!.trim());
  return out;
}
