// Malformed calls are rejected with a typed bad-request error and never reach the core: the
// handler layer is built over an openDump that fails the test if it is ever called.

import { describe, expect, test } from 'vitest';
import { MAX_READ_LENGTH } from '../../contract/values.ts';
import { createHandlers } from '../../main/app/handlers.ts';

const handlers = createHandlers({
  mode: 'serve', userDataDir: '/nonexistent-kvmdump-test', allowWrite: true,
  openDump: () => {
    throw new Error('the core was reached with invalid arguments');
  },
  listDevices: () => {
    throw new Error('the core was reached with invalid arguments');
  },
});

const S = 's0123456789abcdef01234567';
const bad: [string, string, unknown][] = [
  // [description, op, args]
  ['arguments not an object', 'read', 'sessionId'],
  ['arguments null', 'header', null],
  ['arguments an array', 'header', [S]],
  ['missing field', 'read', { sessionId: S, va: '0x1000' }],
  ['missing required path', 'openDump', {}],
  ['extra field', 'header', { sessionId: S, extra: 1 }],
  ['extra field on a no-argument op', 'listDevices', { all: true }],
  ['prototype pollution key', 'appInfo', JSON.parse('{"__proto__": {"x": 1}}')],
  ['wrong type: number address', 'read', { sessionId: S, va: 4096, length: 16 }],
  ['wrong type: string length', 'read', { sessionId: S, va: '0x1000', length: '16' }],
  ['non-hex address', 'read', { sessionId: S, va: '0xZZ', length: 16 }],
  ['decimal address', 'kvatop', { sessionId: S, va: '4096' }],
  ['address without 0x', 'kvatop', { sessionId: S, va: 'ffffffff80000000' }],
  ['address over 64 bits', 'kvatop', { sessionId: S, va: '0x1ffffffffffffffff' }],
  ['huge length', 'read', { sessionId: S, va: '0x1000', length: MAX_READ_LENGTH + 1 }],
  ['zero length', 'read', { sessionId: S, va: '0x1000', length: 0 }],
  ['fractional length', 'read', { sessionId: S, va: '0x1000', length: 1.5 }],
  ['negative dump offset', 'openDump', { dumpPath: '/x', dumpOffset: -512 }],
  ['unsafe dump offset', 'openDump', { dumpPath: '/x', dumpOffset: 2 ** 60 }],
  ['empty path', 'openDump', { dumpPath: '' }],
  ['NUL in path', 'openDump', { dumpPath: '/dev/sd\u0000a' }],
  ['unknown machine', 'openDump', { dumpPath: '/x', machine: 'vax' }],
  ['empty partition', 'openDump', { dumpPath: '/x', partition: '' }],
  ['partition name too long', 'startOpen', { dumpPath: '/x', partition: 'p'.repeat(73) }],
  ['partition not a string', 'openDump', { dumpPath: '/x', partition: 2 }],
  ['surveyDisk without a path', 'surveyDisk', {}],
  ['surveyDisk with NUL in path', 'surveyDisk', { path: '/dev/sd\u0000b' }],
  ['malformed session id', 'header', { sessionId: '../../etc/passwd' }],
  ['inval without confirm', 'inval', { sessionId: S }],
  ['inval with confirm false', 'inval', { sessionId: S, confirm: false }],
  ['inval with confirm "true"', 'inval', { sessionId: S, confirm: 'true' }],
  ['nlist with no names', 'nlist', { sessionId: S, names: [] }],
  ['nlist with a non-string name', 'nlist', { sessionId: S, names: [1] }],
  ['nlist with too many names', 'nlist', { sessionId: S, names: Array.from({ length: 1001 }, (_, i) => `n${i}`) }],
  ['symbol limit too large', 'symbolSearch', { sessionId: S, query: 'x', limit: 100000 }],
  ['wrtheader dumpsize beyond an int', 'wrtheader', { sessionId: S, dumpsize: 2 ** 33, outPath: '/tmp/x' }],
  ['savecore without compress flag', 'startSavecore', { sessionId: S, outDir: '/tmp' }],
  ['malformed job id', 'cancelJob', { jobId: 'x' }],
  ['malformed job id for status', 'jobStatus', { jobId: '../etc' }],
  ['open job without a dump path', 'startOpen', { kernelPath: '/tmp/netbsd' }],
  ['triage with zero lines', 'triage', { sessionId: S, lines: 0 }],
  ['savecorePreview with an extra key', 'savecorePreview', { sessionId: S, force: true }],
  ['mkheader at a negative offset', 'mkheader', { sessionId: S, dumpOffset: -512 }],
  ['scan of an empty path', 'scan', { path: '' }],
  ['scan job with a non-string path', 'startScan', { path: 42 }],
  ['kernel objects of an unknown kind', 'kernelObjects', { sessionId: S, kind: 'files' }],
  ['kernel objects with an empty debug path', 'kernelObjects', { sessionId: S, kind: 'processes', debugPath: '' }],
  ['kernel objects with an extra argument', 'kernelObjects', { sessionId: S, kind: 'cpus', offset: 1 }],
];

describe('malformed calls get bad-request with the issues', () => {
  for (const [what, op, args] of bad) {
    test(`${op}: ${what}`, async () => {
      const r = await handlers.call(op, args);
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.error.code).toBe('bad-request');
      expect(r.error.issues?.length).toBeGreaterThan(0);
      expect(r.error.message).toContain(op);
    });
  }
});

describe('unknown operations are rejected by name', () => {
  for (const op of ['deleteEverything', '__proto__', 'constructor', 'toString', '', 42, null]) {
    test(String(op), async () => {
      expect(await handlers.call(op, {})).toMatchObject({ ok: false, error: { code: 'unknown-op' } });
    });
  }
});

test('valid arguments for a closed session reach the handler and come back not-found', async () => {
  expect(await handlers.call('read', { sessionId: S, va: '0xFFFFffff80000000', length: MAX_READ_LENGTH })).toMatchObject({ ok: false, error: { code: 'not-found' } });
});
