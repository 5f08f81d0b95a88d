// Fetch the Electron binary when the network allows it, without failing the install when it
// does not: offline forensic hosts (and CI here) still get the CLI and the browser "serve" mode.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const installer = 'node_modules/electron/install.js';
if (process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) {
  console.log('kvmdump: ELECTRON_SKIP_BINARY_DOWNLOAD is set; the app will run in serve mode (browser).');
} else if (existsSync(installer)) {
  const r = spawnSync(process.execPath, [installer], { stdio: 'inherit', timeout: 300_000 });
  if (r.status !== 0) {
    console.warn('kvmdump: the Electron binary could not be downloaded; `npm start` will use serve mode (browser) instead.');
  }
}
