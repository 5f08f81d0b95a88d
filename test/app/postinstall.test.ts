// Issue 14 item 10: `npm ci` on an offline host prints one line saying what happened, not the
// Electron installer's RequestError stack trace.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';

const SCRIPT = join(import.meta.dirname, '..', '..', 'scripts', 'postinstall.mjs');

test('an installer that fails offline: one line, naming the cause and the fallback', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kvmdump-postinstall-'));
  const installer = join(dir, 'install.js');
  // What electron's install.js prints without network: a RequestError and its stack.
  writeFileSync(installer, `
    console.error('RequestError: getaddrinfo ENOTFOUND github.com');
    for (let i = 0; i < 10; i++) console.error('    at ClientRequest.<anonymous> (/x/node_modules/got/dist/source/core/index.js:' + (970 + i) + ':111)');
    process.exit(1);
  `);
  const env: NodeJS.ProcessEnv = { ...process.env, KVMDUMP_ELECTRON_INSTALLER: installer };
  delete env.ELECTRON_SKIP_BINARY_DOWNLOAD;
  const r = spawnSync(process.execPath, [SCRIPT], { encoding: 'utf8', env });
  const lines = `${r.stdout}${r.stderr}`.trim().split('\n');
  expect(r.status).toBe(0);
  expect(lines).toEqual(['kvmdump: the Electron binary could not be downloaded (RequestError: getaddrinfo ENOTFOUND github.com); `npm start` will use serve mode (browser) instead.']);
});
