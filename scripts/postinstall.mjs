// Fetch the Electron binary when the network allows it, without failing the install when it
// does not: offline forensic hosts (and CI here) still get the CLI and the browser "serve" mode.
// The installer's own output (a long RequestError stack trace when offline) is kept back: one line
// says what happened and what `npm start` will do.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const installer = process.env.KVMDUMP_ELECTRON_INSTALLER ?? 'node_modules/electron/install.js';
if (process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) {
  console.log('kvmdump: ELECTRON_SKIP_BINARY_DOWNLOAD is set; the app will run in serve mode (browser).');
} else if (existsSync(installer)) {
  const r = spawnSync(process.execPath, [installer], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  if (r.status !== 0) {
    // The first line that names the cause (getaddrinfo ENOTFOUND …), not the stack under it.
    const cause = `${r.stderr ?? ''}\n${r.stdout ?? ''}`.split('\n').map((l) => l.trim()).find((l) => /E[A-Z]+|error/i.test(l) && !l.startsWith('at ')) ?? (r.error?.message ?? `exit ${r.status}`);
    console.warn(`kvmdump: the Electron binary could not be downloaded (${cause.slice(0, 160)}); \`npm start\` will use serve mode (browser) instead.`);
  }
}
