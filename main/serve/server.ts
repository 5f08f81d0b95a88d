// Serve mode: the workbench in a browser, for hosts without Electron. A node:http server on
// 127.0.0.1 only; every request needs the 256-bit token from the printed URL; POST /api/<op> runs
// the same handler layer Electron's IPC uses; GET /api/events streams job progress (SSE).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fail } from '../../contract/errors.ts';
import { CSP_HEADER } from '../app/csp.ts';
import type { Handlers } from '../app/handlers.ts';
import { rendererDir } from '../app/paths.ts';
import { cookieName, hostAllowed, LOOPBACK, newToken, originAllowed, presentedToken, tokenMatches } from './auth.ts';
import { NOT_BUILT_PAGE, staticFile } from './static.ts';

const MAX_BODY = 1 << 20;

export interface ServeOptions {
  handlers: Handlers;
  /** 0 = any free port. */
  port?: number;
  /** Only 127.0.0.1 is accepted; anything else is refused before a socket is opened. */
  host?: string;
  /** Defaults to a fresh random token. */
  token?: string;
  /** The built renderer; defaults to out/renderer in the package. */
  staticDir?: string;
}

export interface RunningServer {
  url: string;
  port: number;
  token: string;
  server: Server;
  close(): Promise<void>;
}

export class HostRefused extends Error {
  override name = 'HostRefused';
}

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
};

function send(res: ServerResponse, status: number, body: string | Buffer, type: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

const sendJson = (res: ServerResponse, status: number, value: unknown) => send(res, status, JSON.stringify(value), 'application/json; charset=utf-8');

async function readBody(req: IncomingMessage): Promise<string | null> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const host = opts.host ?? LOOPBACK;
  if (host !== LOOPBACK) throw new HostRefused(`serve mode binds to ${LOOPBACK} only (asked for ${host}): the workbench exposes raw disks and must not be reachable from the network`);
  const token = opts.token ?? newToken();
  const root = opts.staticDir ?? rendererDir();
  const streams = new Set<ServerResponse>();
  let port = 0;

  const unsubscribe = opts.handlers.onJobEvent((event) => {
    const frame = `event: job\ndata: ${JSON.stringify(event)}\n\n`;
    for (const s of streams) s.write(frame);
  });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', `http://${LOOPBACK}:${port}`);
    if (!hostAllowed(req, port)) return sendJson(res, 403, fail('bad-request', 'forbidden host').error);
    if (!originAllowed(req, port)) return sendJson(res, 403, fail('bad-request', 'forbidden origin').error);
    if (!tokenMatches(presentedToken(req, url, port), token)) {
      return sendJson(res, 401, fail('bad-request', 'missing or wrong token: open the URL kvmdump serve printed').error);
    }
    if (url.pathname.startsWith('/api/')) return api(req, res, url);
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed', 'text/plain');
    const file = await staticFile(root, url.pathname);
    // The cookie lets the page's own script and style requests (which cannot carry ?token=) through.
    const cookie = { 'Set-Cookie': `${cookieName(port)}=${token}; Path=/; HttpOnly; SameSite=Strict` };
    if (file) return send(res, 200, file.body, file.type, file.type.startsWith('text/html') ? { ...cookie, 'Content-Security-Policy': CSP_HEADER } : {});
    if (url.pathname === '/' || url.pathname === '/index.html') return send(res, 200, NOT_BUILT_PAGE, 'text/html; charset=utf-8', { ...cookie, 'Content-Security-Policy': CSP_HEADER });
    return send(res, 404, 'not found', 'text/plain');
  };

  const api = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const op = url.pathname.slice('/api/'.length);
    if (op === 'events' && req.method === 'GET') return openStream(res);
    if (req.method !== 'POST') return sendJson(res, 405, fail('bad-request', 'use POST /api/<operation>'));
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
      return sendJson(res, 415, fail('bad-request', 'the body must be application/json'));
    }
    const body = await readBody(req);
    if (body === null) return sendJson(res, 413, fail('bad-request', `request body larger than ${MAX_BODY} bytes`));
    let args: unknown;
    try {
      args = body.trim() === '' ? {} : JSON.parse(body);
    } catch {
      return sendJson(res, 400, fail('bad-request', 'the body is not valid JSON'));
    }
    // Work for a client that has gone stops: its connection closing before the answer aborts the call.
    const gone = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) gone.abort();
    });
    // Every operation outcome, failures included, is a 200 with the Outcome: HTTP codes are for transport.
    const outcome = await opts.handlers.call(op, args, { signal: gone.signal });
    if (gone.signal.aborted) return;
    return sendJson(res, 200, outcome);
  };

  const openStream = (res: ServerResponse) => {
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream', Connection: 'keep-alive' });
    res.write(': connected\n\n');
    streams.add(res);
    res.on('close', () => streams.delete(res));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) sendJson(res, 500, fail('internal', e instanceof Error ? e.message : String(e)));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, LOOPBACK, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://${LOOPBACK}:${port}/?token=${token}`,
    port,
    token,
    server,
    close: async () => {
      unsubscribe();
      for (const s of streams) s.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
