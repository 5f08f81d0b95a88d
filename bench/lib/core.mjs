// The project's core and node sources for in-process figures, bundled from the TypeScript sources
// with esbuild (rebuilt on every run, so a figure measures the code in the tree, not a stale dist/).

import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = new URL('..', new URL('..', import.meta.url)).pathname;

let loaded = null;

/** The bundle, built once per process; `file` is its path (children import it; removed at exit). */
export async function loadCore(workDir) {
  if (loaded) return loaded;
  const out = join(workDir, `core-${process.pid}.mjs`);
  await build({
    stdin: {
      contents: [
        "export { Kvm } from './core/kvm.ts';",
        "export { memoryLayers } from './core/layers/index.ts';",
        "export { openSource } from './main/sources/node-source.ts';",
      ].join('\n'),
      resolveDir: ROOT, loader: 'ts',
    },
    bundle: true, platform: 'node', format: 'esm', outfile: out, logLevel: 'error',
  });
  process.on('exit', () => rmSync(out, { force: true }));
  loaded = { ...(await import(out)), file: out };
  return loaded;
}
