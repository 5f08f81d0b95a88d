// header: open + kvm_dump_mkheader + kvm_nlist of 16 names against a kernel with 100k symbols, in
// process (warm, as the workbench does it on every open), on a sparse image whose header describes
// 64 GiB of memory vs the same on a 64 MiB image. Targets: < 50 ms on the big image, and peak
// memory (max RSS of a fresh process doing it once) independent of the image size.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { median } from '../lib/measure.mjs';
import { sparseDump } from '../lib/input.mjs';
import { loadCore } from '../lib/core.mjs';

const SYMBOLS = 100_000;
const NAMES = [
  '_dumpmag', '_dumpsize', '_dumplo', '_dumpdev', '_version', '_ostype', '_osrelease', '_time_second',
  '_boottime', '_physmem', '_msgbufp', '_panicstr', '_panicstart', '_panicend', '_hostname', '_kernel_map',
];

async function openOnce(core, d) {
  const dump = await core.openSource(d.image);
  const kernel = await core.openSource(d.kernel);
  try {
    const t0 = performance.now();
    const kd = await core.Kvm.open({ dump, kernel });
    const h = await kd.mkheader(d.headerOff);
    const nl = await kd.nlist(NAMES);
    const ms = performance.now() - t0;
    if (h <= 0) throw new Error(`mkheader: ${kd.geterr()}`);
    if (nl.result !== 0) throw new Error(`nlist: ${nl.result} names not found`);
    return ms;
  } finally {
    await dump.close();
    await kernel.close();
  }
}

export default async function run(ctx) {
  const big = await sparseDump(ctx.workDir, 65536, SYMBOLS, ctx.log);
  const small = await sparseDump(ctx.workDir, 64, SYMBOLS, ctx.log);
  const core = await loadCore(ctx.workDir);

  // time, in this process, alternating; the first (cold: JIT, page cache) of each kept as a note
  const coldBig = await openOnce(core, big);
  const coldSmall = await openOnce(core, small);
  const n = Math.max(ctx.runs * 4, 10);
  const tBig = [], tSmall = [];
  for (let i = 0; i < n; i++) {
    tBig.push(await openOnce(core, big));
    tSmall.push(await openOnce(core, small));
  }
  const msBig = median(tBig), msSmall = median(tSmall);

  // memory: max RSS of a fresh process that opens once, alternating
  const self = fileURLToPath(import.meta.url);
  const child = (d) => {
    const r = spawnSync(process.execPath, [self, core.file, d.image, d.kernel, String(d.headerOff)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`header child: ${r.stderr.slice(-400)}`);
    return JSON.parse(r.stdout).maxRssMiB;
  };
  const mBig = [], mSmall = [];
  for (let i = 0; i < Math.max(ctx.runs, 3); i++) {
    mBig.push(child(big));
    mSmall.push(child(small));
  }
  const rssBig = median(mBig), rssSmall = median(mSmall);
  const r3 = (x) => Math.round(x * 1000) / 1000;
  return [
    {
      figure: 'header: mkheader + nlist 16 (100k symbols), 64 GiB vs 64 MiB image',
      ours: r3(msBig), peer: r3(msSmall), ratio: r3(msSmall / msBig), target: '< 50 ms', pass: msBig < 50, unit: 'ms',
      note: `warm, in process; first (cold) open ${coldBig.toFixed(1)} ms vs ${coldSmall.toFixed(1)} ms`,
    },
    {
      figure: 'header memory, 64 GiB vs 64 MiB image',
      ours: r3(rssBig), peer: r3(rssSmall), ratio: r3(rssSmall / rssBig), target: 0.9, pass: rssSmall / rssBig >= 0.9, unit: 'MiB',
      note: 'peak RSS (VmHWM) of a fresh node process opening once, node itself included',
    },
  ];
}

// child: node header.mjs CORE_BUNDLE IMAGE KERNEL HEADEROFF → {"maxRssMiB": …}
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [bundle, image, kernel, headerOff] = process.argv.slice(2);
  const core = await import(bundle);
  await openOnce(core, { image, kernel, headerOff: Number(headerOff) });
  process.stdout.write(JSON.stringify({ maxRssMiB: peakRssKiB() / 1024 }) + '\n');
}

/** Peak RSS of this process in KiB: VmHWM on Linux (getrusage's maxrss survives fork + exec, so it would report the parent's). */
function peakRssKiB() {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch { /* not Linux */ }
  return process.resourceUsage().maxRSS;
}
