#!/usr/bin/env node
// `npm run bench`: every bench/figures/*.mjs, each a ratio against a peer measured in the same run
// (the machines are shared and noisy, so bare times mean little). Prints a table and writes
// bench/results.json. Needs the built CLI (npm run build:node) and the Debian peers pigz, dc3dd.
//
//   node bench/run.mjs [--mem-mib 1024] [--runs 5] [--only scan,export] [--work DIR] [--out FILE] [--figures DIR]

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';

const argv = process.argv.slice(2);
const value = (name, dflt) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
const here = new URL('.', import.meta.url).pathname;
const root = join(here, '..');
const only = value('--only', null)?.split(',');
const ctxBase = {
  runs: Number(value('--runs', '5')),
  memMiB: Number(value('--mem-mib', '1024')),
  log: (m) => process.stderr.write(`${m}\n`),
};
const outFile = value('--out', join(here, 'results.json'));
const figuresDir = value('--figures', join(here, 'figures'));

// bin/kvmdump.mjs runs the esbuild bundle (dist/cli/) only when it is not older than tsc's output;
// a tsc-only rebuild (the test setups do that) would leave the figures timing the slower start.
const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : -1);
const compiled = mtime(join(root, 'dist', 'main', 'cli', 'main.js'));
if (compiled < 0 || argv.includes('--build')) {
  ctxBase.log('building the CLI (npm run build:node) …');
  execFileSync('npm', ['run', 'build:node'], { cwd: root, stdio: 'ignore' });
} else if (mtime(join(root, 'dist', 'cli', 'main.js')) < compiled) {
  ctxBase.log('bundling the CLI (scripts/build-cli.mjs) …');
  execFileSync(process.execPath, [join(root, 'scripts', 'build-cli.mjs')], { cwd: root, stdio: 'ignore' });
}

const ownWork = value('--work', null) === null;
const workDir = value('--work', null) ?? mkdtempSync(join(tmpdir(), 'kvmdump-bench-'));
mkdirSync(workDir, { recursive: true });
const results = [];
try {
  const figures = readdirSync(figuresDir).filter((f) => f.endsWith('.mjs')).sort()
    .filter((f) => !only || only.includes(f.replace(/\.mjs$/, '')));
  for (const f of figures) {
    ctxBase.log(`figure ${f} …`);
    try {
      const { default: run } = await import(join(figuresDir, f));
      results.push(...(await run({ ...ctxBase, workDir })));
    } catch (e) {
      results.push({ figure: f.replace(/\.mjs$/, ''), ours: null, peer: null, ratio: null, target: null, pass: false, note: `failed: ${e.message}` });
    }
  }
} finally {
  if (ownWork) rmSync(workDir, { recursive: true, force: true });
}

writeFileSync(outFile, JSON.stringify(results, null, 2) + '\n');
const rows = [['figure', 'ours', 'peer', 'ratio', 'target', 'pass', 'note']];
for (const r of results) rows.push([r.figure, fmt(r.ours, r.unit), fmt(r.peer, r.unit), r.ratio ?? '-', r.target ?? '-', r.pass ? 'yes' : 'NO', r.note ?? '']);
console.log(`| ${rows[0].join(' | ')} |\n|${rows[0].map(() => '---').join('|')}|`);
for (const r of rows.slice(1)) console.log(`| ${r.join(' | ')} |`);
console.log(`\n${new Date().toISOString()}, ${cpus().length} cores, node ${process.version}, ${ctxBase.runs} runs, ${ctxBase.memMiB} MiB memory image; written ${outFile}`);

function fmt(x, unit) {
  return x === null || x === undefined ? '-' : `${x}${unit ? ` ${unit}` : ''}`;
}
