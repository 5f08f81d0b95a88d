// Fuzz the contract: random arguments to every operation, over the in-process handlers and over
// serve mode's HTTP transport. Every answer is an Outcome; a bad argument is 'bad-request' naming
// the argument, never 'internal' (a bug) and never a crash of main.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OP_NAMES } from '../../contract/op-names.ts';
import { createHandlers, type Handlers } from '../../main/app/handlers.ts';
import { startServer, type RunningServer } from '../../main/serve/server.ts';
import { writeDumpFiles, type DumpFiles } from '../app/helpers/dump-files.ts';
import { httpCall } from '../app/helpers/serve-client.ts';
import { fuzz } from './harness.ts';

let files: DumpFiles;
let handlers: Handlers;
let server: RunningServer;
let sessionId: string;
let userData: string;
const internal: string[] = [];

beforeAll(async () => {
  files = writeDumpFiles({ seed: 71 });
  userData = mkdtempSync(join(tmpdir(), 'kvmdump-fuzz-'));
  handlers = createHandlers({ mode: 'serve', userDataDir: userData, allowWrite: false, onInternalError: (op, e) => internal.push(`${op}: ${String(e)}`) });
  server = await startServer({ handlers, port: 0 });
  const r = await handlers.invoke('openDump', { kernelPath: files.kernelPath, dumpPath: files.dumpPath, dumpOffset: files.dumpOffset });
  if (!r.ok) throw new Error(r.error.message);
  sessionId = r.value.sessionId;
});

afterAll(async () => {
  await server?.close();
  await handlers?.shutdown();
  files?.cleanup();
  rmSync(userData, { recursive: true, force: true });
});

/** Operations whose valid arguments would write (a file, the dump): fuzzed with invalid shapes only. */
const WRITES = new Set(['wrtheader', 'inval', 'startSavecore', 'pickSaveFile']);
/** Operations that start long work on a path: given only this dump's paths. */
const READ_OPS = OP_NAMES.filter((op) => !WRITES.has(op));

/** Arguments near the valid ones: the right keys with hostile values, extra keys, wrong types. */
const nearValid = fc.record({
  sessionId: fc.oneof(fc.constant(undefined), fc.string({ maxLength: 40 }), fc.integer()),
  va: fc.oneof(fc.constant('0xffffffff80600830'), fc.string({ maxLength: 24 }), fc.bigInt().map((b) => '0x' + (b < 0n ? -b : b).toString(16)), fc.integer()),
  length: fc.oneof(fc.integer({ min: -2, max: 1 << 22 }), fc.double(), fc.string()),
  names: fc.oneof(fc.array(fc.string({ maxLength: 300 }), { maxLength: 40 }), fc.string()),
  query: fc.string({ maxLength: 300 }),
  dumpOffset: fc.oneof(fc.integer({ min: -1, max: 1 << 30 }), fc.string()),
  path: fc.constantFrom('/nonexistent', '', '../../etc/passwd', '\u0000', '/dev/null'),
  jobId: fc.string({ maxLength: 40 }),
  lines: fc.oneof(fc.integer({ min: -5, max: 20_000 }), fc.string()),
  extra: fc.anything(),
}, { requiredKeys: [] });

const call = fc.record({
  op: fc.oneof(fc.constantFrom(...OP_NAMES), fc.string({ maxLength: 30 })),
  args: fc.oneof(fc.anything(), nearValid),
  useSession: fc.boolean(),
  http: fc.boolean(),
});

describe('fuzz: contract arguments over both transports', () => {
  it('every call answers an Outcome; never internal', async () => {
    await fuzz('contract arguments', call, async ({ op, args, useSession, http }) => {
      let a = args;
      if (useSession && a && typeof a === 'object' && !Array.isArray(a)) a = { ...a, sessionId };
      if (WRITES.has(op) && a && typeof a === 'object' && !Array.isArray(a)) a = { ...a, outPath: 42, outDir: 42, confirm: 'no' }; // never valid
      if (!READ_OPS.includes(op as never) && !WRITES.has(op)) a = args; // unknown op names as given
      const before = internal.length;
      const outcome = http ? await httpCall(server, encodeURIComponent(op), a === undefined ? {} : a) : await handlers.call(op, a);
      expect(typeof outcome.ok).toBe('boolean');
      if (!outcome.ok) {
        expect(outcome.error.code).not.toBe('internal');
        expect(outcome.error.message).not.toBe('');
      }
      expect(internal.slice(before)).toEqual([]);
      if (outcome.ok && (op === 'startScan' || op === 'startOpen')) {
        const jobId = (outcome.value as { jobId: string }).jobId;
        await handlers.call('cancelJob', { jobId });
      }
    }, 300);
  }, 600_000);
});
