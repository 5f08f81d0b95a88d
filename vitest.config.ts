import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    globalSetup: ['test/setup/build-node.ts'],
    // Tests (and the CLI processes they start) keep gzip index caches out of the user's home.
    env: { KVMDUMP_CACHE_DIR: join(tmpdir(), `kvmdump-test-cache-${process.pid}`) },
  },
});
