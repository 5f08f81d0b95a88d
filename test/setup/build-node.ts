// Vitest global setup: the CLI tests run bin/kvmdump.mjs, which needs dist/. Rebuild it when any
// TypeScript source under core/, main/ or contract/ is newer than the build.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function newestMtime(dir: string): number {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

export default function setup(): void {
  const built = 'dist/main/cli/main.js';
  const sources = Math.max(newestMtime('core'), newestMtime('main'), newestMtime('contract'));
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  try {
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.node.json'], { stdio: 'inherit' });
  } catch {
    // tsc still emits on type errors; the typecheck step of `npm test` reports them.
  }
}
