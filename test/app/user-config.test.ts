// Issue 14 item 11: the tests never write into the user's configuration. Every test process runs
// with XDG_CONFIG_HOME pointing at a temporary directory (vitest.config.ts), so serve processes and
// handlers started without their own directory land there; this checks the wiring, and that the
// user's real configuration is fingerprinted before and after the whole run
// (test/setup/user-config-guard.ts).

import { tmpdir } from 'node:os';
import { expect, test } from 'vitest';
import { defaultUserDataDir } from '../../main/app/paths.ts';

test('the app data directory of every test process is a temporary one', () => {
  expect(process.env.XDG_CONFIG_HOME?.startsWith(tmpdir())).toBe(true);
  if (process.platform === 'linux') expect(defaultUserDataDir().startsWith(tmpdir())).toBe(true);
});
