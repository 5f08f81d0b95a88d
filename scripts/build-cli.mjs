// The second half of `npm run build:node`: the CLI bundled by esbuild into dist/cli/ (an entry plus
// the chunks of its lazily imported commands), which bin/kvmdump.mjs runs in preference to tsc's
// dist/main/cli/main.js. Node 20 has no compile cache, and importing tsc's ~150 separate ES modules
// cost every command ~25 ms of resolving, reading and compiling before it did anything.
//
// tsc's output stays the reference: bin/kvmdump.mjs falls back to it whenever the bundle is missing
// or older than it (the test setups rebuild dist/ with tsc alone), and where esbuild is not
// installed this step says so and leaves the CLI to run from tsc's output.

import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// --outdir DIR: somewhere else (a test builds a bundle of its own; it must stay inside the package).
const at = process.argv.indexOf('--outdir');
const outdir = resolve(at > 0 ? process.argv[at + 1] : join(root, 'dist', 'cli'));

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.warn('kvmdump: esbuild is not installed; the CLI runs from tsc\'s output (dist/main/cli/main.js), just slower to start');
  process.exit(0);
}

// Written in place, file by file (each to a temporary name, then renamed: atomic), the entry last:
// CLIs already running from the old bundle (a test suite, `kvmdump serve`) keep finding their
// chunks. Chunk names are content hashes; chunks no build has written for an hour are removed.
const result = await esbuild.build({
  entryPoints: { main: join(root, 'main', 'cli', 'main.ts') },
  outdir,
  write: false,
  bundle: true,
  splitting: true, // the commands main.ts imports on use stay separate chunks, loaded on use
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // commander is CommonJS and requires node builtins; an ES module bundle has no require of its own.
  banner: { js: "import { createRequire as __kvmdumpCreateRequire } from 'node:module'; const require = __kvmdumpCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
mkdirSync(outdir, { recursive: true });
const entry = join(outdir, 'main.js');
const files = [...result.outputFiles].sort((a, b) => (a.path === entry) - (b.path === entry));
for (const f of files) {
  const tmp = `${f.path}.${process.pid}.tmp`;
  writeFileSync(tmp, f.contents);
  renameSync(tmp, f.path);
}
const written = new Set(files.map((f) => f.path));
for (const name of readdirSync(outdir)) {
  const p = join(outdir, name);
  if (!written.has(p) && Date.now() - statSync(p).mtimeMs > 3_600_000) rmSync(p, { force: true });
}
