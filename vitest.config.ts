import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    globalSetup: ['test/setup/build-node.ts', 'test/setup/user-config-guard.ts'],
    // Tests (and the CLI and serve processes they start) keep gzip index caches and the app's
    // recent list out of the user's home: test/app/user-config.test.ts checks it.
    env: {
      KVMDUMP_CACHE_DIR: join(tmpdir(), `kvmdump-test-cache-${process.pid}`),
      XDG_CONFIG_HOME: join(tmpdir(), `kvmdump-test-config-${process.pid}`),
      KVMDUMP_REAL_XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'),
    },
  },
});
