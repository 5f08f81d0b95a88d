// Serve mode's door: loopback only, token on every request (HTTP and event stream), Host and
// Origin checked, static files confined to the renderer directory, read-only unless --allow-write.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CSP_HEADER } from '../../main/app/csp.ts';
import { createHandlers, type Handlers } from '../../main/app/handlers.ts';
import { HostRefused, startServer, type RunningServer } from '../../main/serve/server.ts';
import { writeDumpFiles, type DumpFiles } from './helpers/dump-files.ts';
import { httpCall } from './helpers/serve-client.ts';

let dir: string;
let handlers: Handlers;
let server: RunningServer;

/** A raw request, so Host and Origin can be anything. */
function raw(path: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const json = { 'Content-Type': 'application/json' };
const auth = () => ({ Authorization: `Bearer ${server.token}` });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kvmdump-serve-'));
  mkdirSync(join(dir, 'renderer', 'assets'), { recursive: true });
  writeFileSync(join(dir, 'renderer', 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(join(dir, 'renderer', 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(dir, 'secret.txt'), 'outside the renderer');
  handlers = createHandlers({ mode: 'serve', userDataDir: dir, allowWrite: false });
  server = await startServer({ handlers, staticDir: join(dir, 'renderer') });
});

afterAll(async () => {
  await server.close();
  await handlers.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

describe('token', () => {
  test('the URL carries a 256-bit token', () => {
    expect(server.token).toMatch(/^[0-9a-f]{64}$/);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`);
  });
  test('no token: 401 for the API, the page and the event stream', async () => {
    expect((await raw('/api/appInfo', { method: 'POST', headers: json, body: '{}' })).status).toBe(401);
    expect((await raw('/')).status).toBe(401);
    expect((await raw('/assets/app.js')).status).toBe(401);
    expect((await raw('/api/events')).status).toBe(401);
  });
  test('wrong token: 401, including one that differs only in the last character', async () => {
    const wrong = server.token.slice(0, -1) + (server.token.endsWith('0') ? '1' : '0');
    expect((await raw('/api/appInfo', { method: 'POST', headers: { ...json, Authorization: `Bearer ${wrong}` }, body: '{}' })).status).toBe(401);
    expect((await raw(`/?token=${wrong}`)).status).toBe(401);
    expect((await raw('/', { headers: { Cookie: `kvmdump_token_${server.port}=${wrong}` } })).status).toBe(401);
  });
  test('the right token in the URL serves the page with a CSP header and sets the cookie the page\'s assets use', async () => {
    const page = await raw(`/?token=${server.token}`);
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toBe(CSP_HEADER);
    const cookie = String(page.headers['set-cookie']);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    const asset = await raw('/assets/app.js', { headers: { Cookie: cookie.split(';')[0]! } });
    expect(asset.status).toBe(200);
  });
  test('the event stream opens with the token', async () => {
    const res = await fetch(`http://127.0.0.1:${server.port}/api/events?token=${server.token}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    await res.body?.cancel();
  });
});

describe('host and origin', () => {
  test('a request from another origin is refused with 403 even with the token', async () => {
    const r = await raw('/api/appInfo', { method: 'POST', headers: { ...json, ...auth(), Origin: 'http://evil.example' }, body: '{}' });
    expect(r.status).toBe(403);
    const otherPort = await raw('/api/appInfo', { method: 'POST', headers: { ...json, ...auth(), Origin: `http://127.0.0.1:${server.port + 1}` }, body: '{}' });
    expect(otherPort.status).toBe(403);
    expect((await raw('/api/appInfo', { method: 'POST', headers: { ...json, ...auth(), Origin: 'null' }, body: '{}' })).status).toBe(403);
  });
  test('our own origin is accepted', async () => {
    const r = await raw('/api/appInfo', { method: 'POST', headers: { ...json, ...auth(), Origin: `http://127.0.0.1:${server.port}` }, body: '{}' });
    expect(r.status).toBe(200);
  });
  test('a foreign Host header (DNS rebinding) is refused with 403', async () => {
    const r = await raw('/api/appInfo', { method: 'POST', headers: { ...json, ...auth(), Host: `attacker.example:${server.port}` }, body: '{}' });
    expect(r.status).toBe(403);
  });
  test('binding anywhere but 127.0.0.1 is refused before listening', async () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'localhost', '::1']) {
      await expect(startServer({ handlers, host })).rejects.toBeInstanceOf(HostRefused);
    }
  });
  test('the server listens on 127.0.0.1 only', () => {
    expect(server.server.address()).toMatchObject({ address: '127.0.0.1' });
  });
});

describe('requests', () => {
  test('static files cannot escape the renderer directory', async () => {
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/%00']) {
      const r = await raw(p, { headers: auth() });
      expect(r.status, p).toBe(404);
      expect(r.body).not.toContain('outside the renderer');
    }
  });
  test('the API wants POST with a JSON body', async () => {
    expect((await raw('/api/appInfo', { headers: auth() })).status).toBe(405);
    expect((await raw('/api/appInfo', { method: 'POST', headers: { ...auth(), 'Content-Type': 'text/plain' }, body: '{}' })).status).toBe(415);
    expect((await raw('/api/appInfo', { method: 'POST', headers: { ...auth(), ...json }, body: '{not json' })).status).toBe(400);
    expect((await raw('/api/appInfo', { method: 'POST', headers: { ...auth(), ...json }, body: 'x'.repeat((1 << 20) + 10) })).status).toBe(413);
  });
  test('an unknown operation is a typed error', async () => {
    expect(await httpCall(server, 'rmRf', {})).toMatchObject({ ok: false, error: { code: 'unknown-op' } });
  });
});

describe('writes', () => {
  let files: DumpFiles;
  beforeAll(() => {
    files = writeDumpFiles({ seed: 5 });
  });
  afterAll(() => files.cleanup());

  const openAndInval = async (s: RunningServer) => {
    const opened = await httpCall(s, 'openDump', { kernelPath: files.kernelPath, dumpPath: files.dumpPath, dumpOffset: files.dumpOffset });
    if (!opened.ok) throw new Error(opened.error.message);
    const sessionId = (opened.value as { sessionId: string }).sessionId;
    return { sessionId, inval: await httpCall(s, 'inval', { sessionId, confirm: true }) };
  };

  test('inval is refused without --allow-write, and the dump is untouched', async () => {
    const { sessionId, inval } = await openAndInval(server);
    expect(inval).toMatchObject({ ok: false, error: { code: 'write-not-allowed' } });
    const va = `0x${files.image.facts.symbols.dumpmag!.va.toString(16)}`;
    expect(await httpCall(server, 'read', { sessionId, va, length: 4 })).toMatchObject({ ok: true, value: { data: '0101ca8f' } });
  });

  test('with --allow-write, inval clears dumpmag and reads see the new bytes', async () => {
    const writable = createHandlers({ mode: 'serve', userDataDir: dir, allowWrite: true });
    const s = await startServer({ handlers: writable, staticDir: join(dir, 'renderer') });
    try {
      const { sessionId, inval } = await openAndInval(s);
      expect(inval).toMatchObject({ ok: true, value: { result: 0 } });
      const va = `0x${files.image.facts.symbols.dumpmag!.va.toString(16)}`;
      expect(await httpCall(s, 'read', { sessionId, va, length: 4 })).toMatchObject({ ok: true, value: { data: '00000000' } });
    } finally {
      await s.close();
      await writable.shutdown();
    }
  });
});
