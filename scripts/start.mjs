// npm start [-- --kernel K --dump D [--dump-offset N] [--allow-write]]: build what is missing or
// stale, then run the desktop app, or, where the Electron binary is not installed, serve mode in
// the browser (same UI, same operations).

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** Newest modification time under the given directories (sources), 0 when none. */
function newest(dirs) {
  let t = 0;
  const walk = (p) => {
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const f of readdirSync(p)) if (f !== 'node_modules') walk(join(p, f));
    } else t = Math.max(t, st.mtimeMs);
  };
  for (const d of dirs) if (existsSync(join(root, d))) walk(join(root, d));
  return t;
}

function buildIfNeeded(script, output, sources) {
  const out = join(root, output);
  if (existsSync(out) && statSync(out).mtimeMs >= newest(sources)) return;
  console.log(`kvmdump: building (${script})…`);
  const r = spawnSync(npm, ['run', script], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

buildIfNeeded('build:node', 'dist/main/cli/main.js', ['core', 'main', 'contract']);
buildIfNeeded('build:app', 'out/renderer/index.html', ['core', 'main', 'contract', 'preload', 'renderer']);

function electronBinary() {
  try {
    const path = createRequire(import.meta.url)('electron'); // the path of the binary, or throws when it was never downloaded
    return typeof path === 'string' && existsSync(path) ? path : null;
  } catch {
    return null;
  }
}

const electron = electronBinary();
let child;
if (electron) {
  child = spawn(electron, [root, ...args], { cwd: root, stdio: 'inherit' });
} else {
  console.log('Electron binary not available; starting serve mode instead');
  const serveArgs = args.includes('--dump') || args.some((a) => a.startsWith('--dump=')) ? args : ['--sample', ...args];
  child = spawn(process.execPath, [join(root, 'bin', 'kvmdump.mjs'), 'serve', ...serveArgs], { cwd: root, stdio: 'inherit' });
}
// Exit together: a signal to us goes to the child (and SIGHUP, a closing terminal, too); when our own
// parent dies without a signal (npm killed with SIGKILL) we are re-parented, and stop the child.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig === 'SIGHUP' ? 'SIGTERM' : sig));
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) child.kill('SIGTERM');
}, 1000).unref();
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
