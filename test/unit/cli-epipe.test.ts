// `kvmdump … | head -1`: a reader that goes away early must not make the CLI die with an unhandled
// EPIPE stack trace; the rest of the output is dropped and the command ends with its own exit code.

import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const bin = join(root, 'bin', 'kvmdump.mjs');
const sample = join(root, 'build', 'sample');
const DUMP = ['--kernel', join(sample, 'netbsd'), '--dump', join(sample, 'dump.img.gz'), '--dump-offset', '32768'];

/** Run the CLI with stdout read by a reader that closes the pipe after the first chunk. */
function closeAfterFirstChunk(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; first: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let first = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.stdout.once('data', (c: Buffer) => {
      first = c.toString('utf8');
      child.stdout.destroy(); // the read end closes: the child's next write gets EPIPE
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, first, stderr }));
  });
}

const NO_TRACE = /EPIPE|Unhandled 'error' event|^\s+at /m;

describe('stdout closed by the reader', () => {
  test('read of 1 MiB as hex (5 MB of output, far past the pipe buffer): exit 0, nothing on stderr', async () => {
    const r = await closeAfterFirstChunk(['read', ...DUMP, '--va', '0xffffffff80200000', '--length', '1048576']);
    expect(r.first).toMatch(/^kvm_read\(0xffffffff80200000, 1048576\): 1048576\n/);
    expect(r.stderr).not.toMatch(NO_TRACE);
    expect(r.stderr).toBe('');
    expect([r.code, r.signal]).toEqual([0, null]);
  });

  test('read --json (one large write): exit 0, nothing on stderr', async () => {
    const r = await closeAfterFirstChunk(['read', ...DUMP, '--va', '0xffffffff80200000', '--length', '1048576', '--json']);
    expect(r.first).toMatch(/^\{/);
    expect(r.stderr).toBe('');
    expect([r.code, r.signal]).toEqual([0, null]);
  });

  test.each([['report'], ['dmesg']])('%s | head -1: the first line, no stack trace, exit 0', (cmd) => {
    const quoted = [process.execPath, bin, cmd, ...DUMP].map((a) => `'${a}'`).join(' ');
    // PIPESTATUS is bash-only; a subshell reports kvmdump's own status on fd 3.
    const r = spawnSync('sh', ['-c', `{ ${quoted}; echo "kvmdump=$?" >&3; } 3>&2 | head -1`], { cwd: root, encoding: 'utf8' });
    expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(1);
    expect(r.stderr).not.toMatch(NO_TRACE);
    expect(r.stderr.trim()).toBe('kvmdump=0');
  });

  test('the whole output still arrives when the reader keeps reading', () => {
    const r = spawnSync(process.execPath, [bin, 'read', ...DUMP, '--va', '0xffffffff80200000', '--length', '65536'], { cwd: root, encoding: 'utf8' });
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(1 + 65536 / 16);
  });
});
