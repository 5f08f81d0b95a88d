#!/usr/bin/env node
// kvmdump command-line entry: runs the compiled CLI (npm run build:node produces dist/).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/main/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('kvmdump: not built yet; run `npm run build` first\n');
  process.exit(2);
}
const { main } = await import(entry.href);
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`kvmdump: internal error: ${e && e.stack ? e.stack : e}\n`);
  process.exitCode = 70;
}
