// The serve-mode browser client: every reply becomes an Outcome. A well-formed Outcome passes
// through; anything else (the server's bare 403 error objects, a proxy's HTML page, a body that is
// not JSON) becomes a failure naming the HTTP status and what the server said, so the stores never
// see a reply without `error`.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createHandlers, type Handlers } from '../../main/app/handlers.ts';
import { startServer, type RunningServer } from '../../main/serve/server.ts';
import { createBrowserClient } from '../../renderer/src/api/browser.ts';

const TOKEN = 'ab'.repeat(32);
const location = { search: `?token=${TOKEN}` } as Location;

interface Seen {
  url: string;
  init: RequestInit;
}

/** A fetch that answers every request with one canned reply, and records what it was asked. */
function replying(status: number, body: string, type = 'application/json'): { fetch: typeof fetch; seen: Seen[] } {
  const seen: Seen[] = [];
  const fake = (async (url: string | URL | Request, init?: RequestInit) => {
    seen.push({ url: String(url), init: init ?? {} });
    return new Response(body, { status, headers: { 'Content-Type': type } });
  }) as typeof fetch;
  return { fetch: fake, seen };
}

describe('well-formed Outcomes pass through', () => {
  test('success: the value, with the token and the op in the request', async () => {
    const f = replying(200, JSON.stringify({ ok: true, value: { recent: [] } }));
    const api = createBrowserClient(location, f.fetch);
    expect(await api.listRecent({})).toEqual({ ok: true, value: { recent: [] } });
    expect(f.seen[0]!.url).toBe('/api/listRecent');
    expect((f.seen[0]!.init.headers as Record<string, string>).Authorization).toBe(`Bearer ${TOKEN}`);
  });

  test('an operation failure (200) and a transport failure carrying an Outcome (415) keep their error', async () => {
    const notFound = { ok: false, error: { code: 'not-found', message: 'no such session: s1' } };
    expect(await createBrowserClient(location, replying(200, JSON.stringify(notFound)).fetch).header({ sessionId: 's1' })).toEqual(notFound);
    const badType = { ok: false, error: { code: 'bad-request', message: 'the body must be application/json' } };
    expect(await createBrowserClient(location, replying(415, JSON.stringify(badType)).fetch).appInfo({})).toEqual(badType);
  });
});

describe('anything else becomes a failure with an error', () => {
  test("403 with the server's bare error object: permission-denied naming the status and the message", async () => {
    const body = JSON.stringify({ code: 'bad-request', message: 'forbidden origin' });
    const r = await createBrowserClient(location, replying(403, body).fetch).appInfo({});
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('permission-denied');
    expect(r.error.message).toMatch(/403/);
    expect(r.error.message).toMatch(/forbidden origin/);
  });

  test('401 stays permission-denied with instructions', async () => {
    const r = await createBrowserClient(location, replying(401, JSON.stringify({ code: 'bad-request', message: 'missing or wrong token' })).fetch).appInfo({});
    expect(r).toMatchObject({ ok: false, error: { code: 'permission-denied' } });
  });

  test.each([
    ['an HTML error page', 502, '<html><body><h1>502 Bad Gateway</h1></body></html>', 'text/html', /502.*Bad Gateway/],
    ['plain text', 404, 'not found', 'text/plain', /404.*not found/],
    ['an empty body', 500, '', 'text/plain', /500/],
    ['a bare error object', 500, JSON.stringify({ code: 'internal', message: 'boom' }), 'application/json', /500.*boom/],
    ['an Outcome-like object without error', 200, JSON.stringify({ ok: false }), 'application/json', /200/],
    ['an error without a message', 200, JSON.stringify({ ok: false, error: { code: 'internal' } }), 'application/json', /200/],
    ['a success without a value', 200, JSON.stringify({ ok: true }), 'application/json', /200/],
    ['a success on an error status', 500, JSON.stringify({ ok: true, value: 1 }), 'application/json', /500/],
    ['a JSON array', 200, '[]', 'application/json', /200/],
    ['truncated JSON', 200, '{"ok":true,"val', 'application/json', /200.*\{"ok":true,"val/],
  ])('%s: internal, naming the status and what the server said', async (_what, status, body, type, message) => {
    const r = await createBrowserClient(location, replying(status, body, type).fetch).appInfo({});
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('internal');
    expect(typeof r.error.message).toBe('string');
    expect(r.error.message).toMatch(message);
  });

  test('a network failure: internal, cannot reach the server', async () => {
    const down = (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch;
    const r = await createBrowserClient(location, down).appInfo({});
    expect(r).toMatchObject({ ok: false, error: { code: 'internal', message: expect.stringMatching(/cannot reach.*fetch failed/) } });
  });
});

describe('against the real server', () => {
  let dir: string;
  let handlers: Handlers;
  let server: RunningServer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kvmdump-browser-client-'));
    handlers = createHandlers({ mode: 'serve', userDataDir: dir, allowWrite: false });
    server = await startServer({ handlers, token: TOKEN, staticDir: join(dir, 'renderer') });
  });
  afterAll(async () => {
    await server.close();
    await handlers.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The page's relative /api/ URLs resolved against the server, plus any extra headers. */
  const fetchVia = (extra: Record<string, string> = {}) => ((url: string | URL | Request, init?: RequestInit) =>
    fetch(new URL(String(url), `http://127.0.0.1:${server.port}`), { ...init, headers: { ...(init?.headers as Record<string, string>), ...extra } })) as typeof fetch;

  test('a normal call gets the Outcome', async () => {
    expect(await createBrowserClient(location, fetchVia()).appInfo({})).toMatchObject({ ok: true, value: { mode: 'serve' } });
  });

  test("a foreign Origin's 403 becomes permission-denied with the server's reason", async () => {
    const r = await createBrowserClient(location, fetchVia({ Origin: 'http://evil.example' })).appInfo({});
    expect(r).toMatchObject({ ok: false, error: { code: 'permission-denied', message: expect.stringMatching(/HTTP 403.*forbidden origin/) } });
  });
});
