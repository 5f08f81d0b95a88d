// Issue 9 item 6: endless devices and unbounded sessions. A source without a size is scanned up to a
// stated limit; a serve-mode request whose client has gone stops reading; sessions are bounded and
// release their descriptors; SIGTERM ends `kvmdump serve` promptly even mid-scan.

import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemorySource, type DumpSource } from '../../core/source.ts';
import { scanForDumps } from '../../core/scan.ts';
import { createHandlers } from '../../main/app/handlers.ts';
import { startServer } from '../../main/serve/server.ts';
import { writeDumpFiles, type DumpFiles } from './helpers/dump-files.ts';
import { kvmdump, BIN } from '../fixtures/cli.ts';

/** An endless zero device (size unknown), counting the bytes read from it. */
class EndlessZeros implements DumpSource {
  readonly name = 'endless';
  readonly kind = 'chardev' as const;
  readonly size = 0;
  bytesRead = 0;
  async pread(buf: Uint8Array): Promise<number> {
    buf.fill(0);
    this.bytesRead += buf.length;
    await new Promise((r) => setImmediate(r));
    return buf.length;
  }
}

let files: DumpFiles;
beforeAll(() => {
  files = writeDumpFiles({ seed: 61 });
});
afterAll(() => files.cleanup());

const openFds = () => readdirSync('/proc/self/fd').length;

describe('sources without a size', () => {
  it('a scan stops at maxBytes and says where', async () => {
    const src = new EndlessZeros();
    let stoppedAt = -1;
    const found = await scanForDumps(src, { maxBytes: 8 << 20, onLimit: (at) => (stoppedAt = at) });
    expect(found).toEqual([]);
    expect(stoppedAt).toBe(8 << 20);
    expect(src.bytesRead).toBe(8 << 20);
  });

  it('a sized source is read to its end and no limit is reported', async () => {
    let limited = false;
    await scanForDumps(new MemorySource(new Uint8Array(3 << 20)), { onLimit: () => (limited = true) });
    expect(limited).toBe(false);
  });

  it('kvmdump scan --dump /dev/zero ends, naming the limit', () => {
    const r = kvmdump(['scan', '--dump', '/dev/zero', '--max-bytes', String(32 << 20), '--json']);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ candidates: [], stoppedAt: 32 << 20, note: expect.stringContaining('no known size') });
  });
});

describe('serve mode', () => {
  it('a scan request whose client disconnects stops reading', async () => {
    const handlers = createHandlers({ mode: 'serve', userDataDir: files.dir, allowWrite: false });
    const server = await startServer({ handlers, port: 0 });
    try {
      const req = request({
        host: '127.0.0.1', port: server.port, path: '/api/scan', method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${server.token}` },
      });
      req.on('error', () => undefined);
      req.end(JSON.stringify({ path: '/dev/zero' }));
      await new Promise((r) => setTimeout(r, 300));
      req.destroy();
      await new Promise((r) => setTimeout(r, 300)); // the abort lands at the next chunk
      const settle = process.cpuUsage();
      await new Promise((r) => setTimeout(r, 700));
      const idle = process.cpuUsage(settle);
      // Still scanning /dev/zero would burn ~a core: after the abort the process idles.
      expect((idle.user + idle.system) / 1000).toBeLessThan(250);
    } finally {
      await server.close();
      await handlers.shutdown();
    }
  });

  it('sessions are bounded: 200 opens keep at most the limit open and release descriptors', async () => {
    const handlers = createHandlers({ mode: 'serve', userDataDir: files.dir, allowWrite: false, sessionLimits: { maxSessions: 4 } });
    const before = openFds();
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) {
      const r = await handlers.invoke('openDump', { kernelPath: files.kernelPath, dumpPath: files.dumpPath, dumpOffset: files.dumpOffset });
      if (!r.ok) throw new Error(r.error.message);
      ids.push(r.value.sessionId);
    }
    await new Promise((r) => setTimeout(r, 50)); // evicted sessions close asynchronously
    expect(handlers.sessionCount).toBe(4);
    expect(openFds() - before).toBeLessThanOrEqual(4 * 3);
    // The newest still works; an evicted one says so.
    expect((await handlers.invoke('header', { sessionId: ids[199] })).ok).toBe(true);
    const gone = await handlers.invoke('header', { sessionId: ids[0] });
    expect(gone.ok).toBe(false);
    await handlers.shutdown();
    expect(openFds()).toBeLessThanOrEqual(before);
  });

  it('idle sessions are closed', async () => {
    let now = 1_000_000;
    const handlers = createHandlers({ mode: 'serve', userDataDir: files.dir, allowWrite: false, sessionLimits: { idleMs: 60_000, now: () => now } });
    const r = await handlers.invoke('openDump', { kernelPath: files.kernelPath, dumpPath: files.dumpPath, dumpOffset: files.dumpOffset });
    expect(r.ok).toBe(true);
    now += 61_000;
    const again = await handlers.invoke('header', { sessionId: r.ok ? r.value.sessionId : '' });
    expect(again.ok).toBe(false);
    expect(handlers.sessionCount).toBe(0);
    await handlers.shutdown();
  });

  it('SIGTERM ends kvmdump serve promptly while a client scans /dev/zero', async () => {
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--kernel', files.kernelPath, '--dump', files.dumpPath, '--dump-offset', String(files.dumpOffset)], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, XDG_CONFIG_HOME: join(files.dir, 'config') },
    });
    const url = await new Promise<URL>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(out);
        if (m) resolve(new URL(m[1]));
      });
      child.once('exit', () => reject(new Error(`serve exited early: ${out}`)));
    });
    const req = request({
      host: '127.0.0.1', port: Number(url.port), path: '/api/scan', method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${url.searchParams.get('token')}` },
    });
    req.on('error', () => undefined);
    req.end(JSON.stringify({ path: '/dev/zero' }));
    await new Promise((r) => setTimeout(r, 500));
    const t0 = Date.now();
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(Date.now() - t0).toBeLessThan(4000);
    expect(code).toBe(0);
  });
});
