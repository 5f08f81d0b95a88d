// `kvmdump serve` on the command line: refuses non-loopback hosts, prints the URL with its token,
// opens the dump it is given, and shuts down cleanly.

import { afterEach, expect, test, vi } from 'vitest';
import { main } from '../../main/cli/main.ts';
import { serveCommand } from '../../main/serve/command.ts';
import { writeDumpFiles } from './helpers/dump-files.ts';

afterEach(() => vi.restoreAllMocks());

test('--host other than 127.0.0.1 is refused', async () => {
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  expect(await main(['serve', '--host', '0.0.0.0'])).toBe(1);
  expect(err.mock.calls.join('')).toMatch(/127\.0\.0\.1 only/);
});

test('--port out of range is refused', async () => {
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  expect(await main(['serve', '--port', '70000'])).toBe(1);
});

test('prints the URL, serves the opened dump, stops on abort', async () => {
  const files = writeDumpFiles({ seed: 4 });
  const lines: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => (lines.push(String(s)), true));
  const stop = new AbortController();
  const done = serveCommand({
    port: 0, host: '127.0.0.1', open: false, allowWrite: false, sample: false,
    request: { kernelPath: files.kernelPath, dumpPath: files.dumpPath, dumpOffset: files.dumpOffset },
  }, stop.signal);
  await vi.waitFor(() => expect(lines.join('')).toMatch(/http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64}/), { timeout: 10_000 });
  const url = new URL(/http:\/\/\S+/.exec(lines.join(''))![0]);
  const info = await fetch(new URL('/api/appInfo', url), {
    method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${url.searchParams.get('token')}` }, body: '{}',
  }).then((r) => r.json() as Promise<{ value: { initialSessionId: string } }>);
  expect(info).toMatchObject({ ok: true, value: { mode: 'serve', allowWrite: false, startupMessage: null } });
  expect(info.value.initialSessionId).toMatch(/^s[0-9a-f]+$/);
  expect(lines.join('')).toContain('read-only');
  stop.abort();
  expect(await done).toBe(0);
  files.cleanup();
});
