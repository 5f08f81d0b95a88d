// The project's core and node sources for in-process figures, bundled from the TypeScript sources
// with esbuild (rebuilt on every run, so a figure measures the code in the tree, not a stale dist/).

import { build } from 'esbuild';
import { join } from 'node:path';

const ROOT = new URL('..', new URL('..', import.meta.url)).pathname;

export async function loadCore(workDir) {
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
  return import(out);
}
