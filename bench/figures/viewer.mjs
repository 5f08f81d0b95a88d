// viewer: the Memory view in Chromium through serve mode (issue 10/11), on a 64 MiB dump and on a
// 4 GiB sparse dump: first rows painted after the Memory view is opened, go-to, PageDown, the
// scrollbar dragged end to end, and the renderer's heap. The 64 MiB dump is the peer: the viewer
// must not get slower or heavier with the size of the dump.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { BIN, median } from '../lib/measure.mjs';
import { fixtureBuilder } from '../lib/input.mjs';

const ROOT = new URL('../..', import.meta.url).pathname;
const CHROMIUM = process.env.KVMDUMP_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'];

async function sparseDump(workDir, name, opts) {
  const image = join(workDir, `viewer-${name}.img`);
  const kernel = join(workDir, `viewer-${name}.netbsd`);
  const { buildDumpImage, writeImageFile } = await fixtureBuilder(workDir);
  const img = buildDumpImage({ flavour: 'amd64', seed: 31, ...opts });
  if (!existsSync(image)) {
    await writeFile(kernel, img.kernel);
    await writeImageFile(img, image);
  }
  return { image, kernel, headerOff: img.facts.dumpOff, size: img.size, dumpmag: img.facts.symbols.dumpmag.va };
}

/** kvmdump serve with the dump opened at start; resolves with its URL. */
function serve(d, workDir) {
  // Its own configuration directory: a benchmark never touches the user's recent list or bookmarks.
  const env = { ...process.env, XDG_CONFIG_HOME: join(workDir, 'viewer-config') };
  const child = spawn(process.execPath, [BIN, 'serve', '--dump', d.image, '--kernel', d.kernel, '--dump-offset', String(d.headerOff)], { stdio: ['ignore', 'pipe', 'inherit'], env });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (b) => {
      out += b;
      const m = /(http:\/\/127\.0\.0\.1:\d+\/\S*)/.exec(out);
      if (m) resolve({ url: m[1], stop: () => child.kill('SIGTERM') });
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
  });
}

async function measure(browser, d, workDir) {
  const server = await serve(d, workDir);
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const cdp = await page.context().newCDPSession(page);
  try {
    await page.goto(server.url);
    await page.getByTestId('tab-hex').waitFor();
    await page.waitForFunction(() => !document.querySelector('[data-testid="tab-hex"]').disabled);
    const heapBefore = (await cdp.send('Runtime.getHeapUsage')).usedSize;
    const rows = page.locator('[data-testid="hexgrid"] [data-address]');
    // First rows painted after the Memory view is opened.
    let t = performance.now();
    await page.getByTestId('tab-hex').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="hexgrid"] [data-address] .cell').length === 24 * 16);
    const firstPaint = performance.now() - t;
    // The view settles (the page-table scan behind the minimap is done) before the next figures.
    await page.getByTestId('hex-minimap-band').first().waitFor();
    // Go to a symbol, timed inside the page (no automation round trip): until its row shows.
    const row = `0x${(d.dumpmag - (d.dumpmag % 16n)).toString(16)}`;
    await page.getByTestId('goto-input').fill('dumpmag');
    const gotoMs = await page.evaluate((want) => new Promise((resolve) => {
      const t0 = performance.now();
      document.querySelector('[data-testid="goto-button"]').click();
      // A MutationObserver sees the rows the moment Vue writes them (no wait for the next frame).
      const done = () => document.querySelector(`[data-address="${want}"] .cell`);
      const mo = new MutationObserver(() => {
        if (done()) {
          mo.disconnect();
          resolve(performance.now() - t0);
        }
      });
      mo.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
      if (done()) {
        mo.disconnect();
        resolve(performance.now() - t0);
      }
    }), row);
    // 100 PageDowns dispatched inside the page, each waited for until its rows are painted.
    await page.getByTestId('hexgrid').focus();
    const pageDown = await page.evaluate(() => new Promise((resolve) => {
      const grid = document.querySelector('[data-testid="hexgrid"]');
      const first = () => BigInt(grid.querySelector('[data-address]').getAttribute('data-address'));
      const start = first();
      const t0 = performance.now();
      let i = 0;
      let want = start;
      const mo = new MutationObserver(() => {
        if (first() === want) step();
      });
      const step = () => {
        if (i === 100) {
          mo.disconnect();
          return resolve((performance.now() - t0) / 100);
        }
        i++;
        want = start + BigInt(i) * 384n;
        grid.dispatchEvent(new KeyboardEvent('keydown', { key: 'PageDown', bubbles: true }));
      };
      mo.observe(grid, { subtree: true, childList: true, attributes: true, characterData: true });
      step();
    }));
    // The scrollbar dragged from the top to the bottom of the track.
    await page.getByTestId('goto-input').fill('0x0');
    await page.getByTestId('goto-button').click();
    const track = await page.getByTestId('hex-scrollbar').boundingBox();
    const thumb = await page.getByTestId('hex-scroll-thumb').boundingBox();
    t = performance.now();
    await page.mouse.move(thumb.x + thumb.width / 2, thumb.y + 4);
    await page.mouse.down();
    await page.mouse.move(thumb.x + thumb.width / 2, track.y + track.height + 40, { steps: 20 });
    await page.mouse.up();
    const last = `0x${((1n << 64n) - 384n).toString(16)}`;
    await page.waitForFunction((w) => document.querySelector('[data-testid="hexgrid"] [data-address]')?.getAttribute('data-address') === w, last);
    const drag = performance.now() - t;
    await cdp.send('HeapProfiler.collectGarbage');
    const heapAfter = (await cdp.send('Runtime.getHeapUsage')).usedSize;
    const domRows = await rows.count();
    return { firstPaint, gotoMs, pageDown, drag, heapMiB: heapAfter / 2 ** 20, heapGrowthMiB: (heapAfter - heapBefore) / 2 ** 20, domRows };
  } finally {
    await page.close();
    server.stop();
  }
}

export default async function run(ctx) {
  if (!existsSync(CHROMIUM)) return [{ figure: 'viewer', ours: null, peer: null, ratio: null, target: '-', pass: false, note: `skipped: no Chromium at ${CHROMIUM}` }];
  if (!existsSync(join(ROOT, 'out', 'renderer', 'index.html'))) {
    ctx.log?.('building the renderer (npm run build:app) …');
    const r = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build:app'], { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('npm run build:app failed');
  }
  const small = await sparseDump(ctx.workDir, '64m', { memMiB: 64 });
  const big = await sparseDump(ctx.workDir, '4g', { memMiB: 64, highMiB: 4096 });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  const runs = { small: [], big: [] };
  try {
    for (let i = 0; i < Math.max(3, ctx.runs); i++) {
      runs.small.push(await measure(browser, small, ctx.workDir));
      runs.big.push(await measure(browser, big, ctx.workDir));
    }
  } finally {
    await browser.close();
  }
  const med = (which, key) => median(runs[which].map((r) => r[key]));
  const r1 = (x) => Math.round(x * 10) / 10;
  const fig = (figure, key, limit, unit = 'ms') => {
    const ours = med('big', key);
    const peer = med('small', key);
    return { figure, ours: r1(ours), peer: r1(peer), ratio: r1(peer / ours), target: `< ${limit} ${unit}`, pass: ours < limit, unit, note: '4 GiB sparse dump (ours) vs 64 MiB dump (peer), medians' };
  };
  const growth = med('big', 'heapMiB') - med('small', 'heapMiB');
  return [
    fig('viewer: first rows painted after opening the Memory view', 'firstPaint', 300),
    fig('viewer: go-to a symbol', 'gotoMs', 50),
    fig('viewer: one PageDown (mean of 100)', 'pageDown', 16),
    { ...fig('viewer: scrollbar dragged end to end', 'drag', 1000), target: 'reported' , pass: true },
    {
      figure: 'viewer: renderer heap, 4 GiB vs 64 MiB dump', ours: r1(med('big', 'heapMiB')), peer: r1(med('small', 'heapMiB')), ratio: r1(growth),
      target: '< 50 MiB growth', pass: growth < 50, unit: 'MiB', note: `after GC; rows in the DOM: ${runs.big[0].domRows} (4 GiB) and ${runs.small[0].domRows} (64 MiB)`,
    },
  ];
}
