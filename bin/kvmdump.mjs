#!/usr/bin/env node
// kvmdump command-line entry: runs the built CLI (npm run build:node produces dist/). The esbuild
// bundle (dist/cli/main.js) starts ~25 ms faster than tsc's many modules (dist/main/cli/main.js);
// it is used only when it is at least as new as tsc's output, so a tsc-only rebuild (as the test
// setups do) never leaves an older bundle running.
import { statSync } from 'node:fs';

const bundle = new URL('../dist/cli/main.js', import.meta.url);
const compiled = new URL('../dist/main/cli/main.js', import.meta.url);
const mtime = (url) => statSync(url, { throwIfNoEntry: false })?.mtimeMs;
const compiledTime = mtime(compiled);
const bundleTime = mtime(bundle);
if (compiledTime === undefined && bundleTime === undefined) {
  process.stderr.write('kvmdump: not built yet; run `npm run build` first\n');
  process.exit(2);
}
const entry = bundleTime !== undefined && (compiledTime === undefined || bundleTime >= compiledTime) ? bundle : compiled;
const { main } = await import(entry.href);
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`kvmdump: internal error: ${e && e.stack ? e.stack : e}\n`);
  process.exitCode = 70;
}
