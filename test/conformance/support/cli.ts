// Running the kvmdump CLI the two ways the conformance tests use: in-process (main() from the
// sources, stdout captured; fast enough for thousands of calls) and as a real child process of
// bin/kvmdump.mjs over the compiled dist/ (what a user runs).

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './mkdump.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

function parseJson(stdout: string): unknown {
  const t = stdout.trim();
  if (!t) return null;
  try {
    return JSON.parse(t);
  } catch {
    return null;
  }
}

let chain: Promise<unknown> = Promise.resolve();
type Main = (argv: string[]) => Promise<number>;
let mainFn: Promise<Main> | null = null;
/**
 * Imported on first use, so a broken CLI module fails the tests that use it, not the whole file.
 * KVMDUMP_CONFORMANCE_MAIN may name another module exporting main() (e.g. a dist/ build).
 */
function loadMain(): Promise<Main> {
  mainFn ??= (process.env.KVMDUMP_CONFORMANCE_MAIN
    ? import(/* @vite-ignore */ process.env.KVMDUMP_CONFORMANCE_MAIN)
    : import('../../../main/cli/main.ts')).then((mod: { main: Main }) => mod.main);
  return mainFn;
}

/** main(argv) in this process with stdout/stderr captured. Calls are serialised (the capture is global). */
export function cli(argv: string[]): Promise<CliResult> {
  const next = chain.then(async () => {
    const main = await loadMain();
    let stdout = '';
    let stderr = '';
    const out = process.stdout.write;
    const err = process.stderr.write;
    process.stdout.write = ((s: string | Uint8Array) => {
      stdout += typeof s === 'string' ? s : Buffer.from(s).toString('utf8');
      return true;
    }) as typeof process.stdout.write;
    process.stderr.write = ((s: string | Uint8Array) => {
      stderr += typeof s === 'string' ? s : Buffer.from(s).toString('utf8');
      return true;
    }) as typeof process.stderr.write;
    let code: number;
    try {
      code = await main(argv);
    } finally {
      process.stdout.write = out;
      process.stderr.write = err;
    }
    return { code, stdout, stderr, json: parseJson(stdout) };
  });
  chain = next.catch(() => undefined);
  return next;
}

export const BIN = join(REPO_ROOT, 'bin', 'kvmdump.mjs');
const DIST_MAIN = join(REPO_ROOT, 'dist', 'main', 'cli', 'main.js');

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newestMtime(p));
    else if (e.name.endsWith('.ts')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

/**
 * Make sure bin/kvmdump.mjs runs the current sources: (re)build dist/ with tsc when it is missing or
 * older than core/ or main/. tsc emits even when unrelated files have type errors; the build is
 * serialised across test workers with a lock directory.
 */
export function ensureBuilt(): void {
  const stale = () => !existsSync(DIST_MAIN)
    || statSync(DIST_MAIN).mtimeMs < Math.max(newestMtime(join(REPO_ROOT, 'core')), newestMtime(join(REPO_ROOT, 'main')));
  if (!stale()) return;
  const lock = join(REPO_ROOT, 'node_modules', '.cache', 'kvmdump-conformance-build.lock');
  mkdirSync(join(lock, '..'), { recursive: true });
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`build lock ${lock} held too long`);
      execFileSync('sleep', ['0.5']);
    }
  }
  try {
    if (stale()) {
      try {
        execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.node.json'], { cwd: REPO_ROOT, stdio: 'ignore' });
      } catch {
        /* type errors elsewhere still emit JavaScript; checked below */
      }
    }
  } finally {
    rmdirSync(lock);
  }
  if (!existsSync(DIST_MAIN)) throw new Error('npm run build:node produced no dist/main/cli/main.js');
}

/** node bin/kvmdump.mjs argv… as a child process. */
export function spawnCli(argv: string[]): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...argv], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      const stdout = Buffer.concat(out).toString('utf8');
      resolvePromise({ code: code ?? -1, stdout, stderr: Buffer.concat(err).toString('utf8'), json: parseJson(stdout) });
    });
  });
}
