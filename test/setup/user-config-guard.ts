// Issue 14 item 11: a full test run leaves the user's configuration untouched. Before the run the
// user's real config directory for the workbench is fingerprinted; after it, the fingerprint must
// be the same (every test process runs with a temporary XDG_CONFIG_HOME, see vitest.config.ts).

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

function fingerprint(dir: string): string {
  if (!existsSync(dir)) return 'absent';
  const h = createHash('sha256');
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    h.update(name);
    if (statSync(p).isFile()) h.update(readFileSync(p));
  }
  return h.digest('hex');
}

export default function setup(): () => void {
  // vitest.config.ts records the real value before it points XDG_CONFIG_HOME at a temporary directory.
  const real = process.env.KVMDUMP_REAL_XDG_CONFIG_HOME ?? process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config');
  const dir = join(real, 'kvmdump-workbench');
  const before = fingerprint(dir);
  return () => {
    const after = fingerprint(dir);
    if (after !== before) throw new Error(`the test run changed the user's configuration in ${dir}`);
  };
}
