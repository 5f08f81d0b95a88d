// `kvmdump savecore` as a process: option parsing (-Z strtol, usage errors), stderr/stdout/--json
// conventions, SIGINT, and a kill -9 loop proving that a killed export never leaves an incomplete
// netbsd.N.core and never invalidates a dump without a verified archive.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, openSync, readdirSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCompressionLevel } from '../../main/jobs/savecore/options.ts';
import { atoi } from '../../main/jobs/savecore/bounds.ts';
import { expectedCore, isInvalidated, NOW, readImage, sha256, writeDump, type DumpOnDisk } from './savecore-fixture.ts';

const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/kvmdump.mjs');

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, 'savecore', ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  // The CLI runs from dist/; tsc emits even when files being written by others do not type-check.
  spawnSync('npx', ['tsc', '-p', 'tsconfig.node.json'], { cwd: ROOT, stdio: 'ignore' });
  if (!existsSync(join(ROOT, 'dist/main/cli/main.js'))) throw new Error('npm run build:node produced no dist/main/cli/main.js');
}, 180_000);

describe('option parsing (no process)', () => {
  it('-Z follows strtol + range check', () => {
    expect(['1', '9', '0', ' 7', '+3', '5x', 'abc', '', '-0'].map(parseCompressionLevel)).toEqual([1, 9, 0, 7, 3, 5, 0, 0, 0]);
    expect(['10', '-1', '99999999999999999999'].map(parseCompressionLevel)).toEqual([null, null, null]);
  });
  it('bounds and minfree use atoi', () => {
    expect(['12\n', '  7abc', '-3', 'x', '', '2147483648'].map(atoi)).toEqual([12, 7, -3, 0, 0, -2147483648]);
  });
});

describe('kvmdump savecore (process)', () => {
  let d: DumpOnDisk;
  beforeAll(() => {
    d = writeDump({ flavour: 'amd64', seed: 31 });
  });
  afterAll(() => d.cleanup());
  const base = () => ['-N', d.kernel, '--dump-offset', String(d.img.facts.dumpOff), '--now', String(NOW)];

  it('invalid -Z: "Invalid compression" and usage, exit 1', () => {
    const r = cli([...base(), '-Z', '10', d.crashDir, d.device]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Invalid compression `10'");
    expect(r.stderr).toContain('Usage: savecore [-cfnvz] [-N system] [-Z level]');
    expect(readdirSync(d.crashDir)).toEqual([]);
  });

  it('-n -v -Z abc: dump present, dumplo line on stdout, exit 0', () => {
    const r = cli([...base(), '-nv', '-Z', 'abc', d.crashDir, d.device]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`dumplo = ${d.img.facts.dumpOff} (${d.img.facts.dumpOff / 512} * 512)\n`);
    expect(readdirSync(d.crashDir)).toEqual([]);
  });

  it('--json: one object on stdout; savecore messages on stderr', () => {
    const r = cli([...base(), '--json', '--keep', d.crashDir, d.device]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const o = JSON.parse(lines[0]);
    expect(o).toMatchObject({ exitCode: 0, status: 'saved', bounds: 0, verified: true, invalidation: { status: 'skipped' } });
    expect(o.core.sha256).toBe(sha256(expectedCore(d.img, d.original)));
    expect(r.stderr).toContain(`savecore: writing core to ${join(d.crashDir, 'netbsd.0.core')}\n`);
    expect(r.stderr).toMatch(/savecore: reboot\n/);
    expect(r.stderr).toMatch(/savecore: system went down at \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\n/);
  });

  it('-z --progress: progress on stderr, .gz files, dump invalidated', () => {
    const r = cli([...base(), '-z', '--progress', d.crashDir, d.device]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/core: \d+ of \d+ bytes \(100\.0%\), [\d.]+ MiB\/s/);
    expect(existsSync(join(d.crashDir, 'netbsd.1.core.gz'))).toBe(true);
    expect(isInvalidated(d)).toBe(true);
    const again = cli([...base(), d.crashDir, d.device]);
    expect([again.code, again.stderr]).toEqual([1, 'savecore: no core dump\n']);
  });

  it('missing operands: commander usage error, exit 1', () => {
    expect(cli([d.crashDir]).code).toBe(1);
  });
});

describe('interruptions', () => {
  let big: DumpOnDisk;
  let expectedSha: string;
  let expectedLength: number;
  beforeAll(() => {
    big = writeDump({ flavour: 'amd64', seed: 41, memMiB: 96, noise: false });
    const core = expectedCore(big.img, big.original);
    expectedSha = sha256(core);
    expectedLength = core.length;
  }, 120_000);
  afterAll(() => big.cleanup());

  const args = () => ['-N', big.kernel, '--dump-offset', String(big.img.facts.dumpOff), '--now', String(NOW), big.crashDir, big.device];
  const mag = () => big.img.facts.symbols.dumpmag;

  function restoreDumpmag() {
    const fd = openSync(big.device, 'r+');
    writeSync(fd, big.original.subarray(mag().fileOff, mag().fileOff + 8), 0, 8, mag().fileOff);
    closeSync(fd);
  }

  /** Every netbsd.*.core present is complete and exact; an invalidated dump has a verified archive. */
  function checkInvariants(): { cores: string[]; invalidated: boolean } {
    const names = readdirSync(big.crashDir);
    const cores = names.filter((n) => /^netbsd\.\d+\.core$/.test(n));
    for (const c of cores) {
      const b = readFileSync(join(big.crashDir, c));
      expect([c, b.length]).toEqual([c, expectedLength]);
      expect([c, sha256(b)]).toEqual([c, expectedSha]);
    }
    const invalidated = isInvalidated(big);
    if (invalidated) {
      const verified = cores.some((c) => {
        const mpath = join(big.crashDir, c.replace(/\.core$/, '.manifest.json'));
        if (!existsSync(mpath)) return false;
        const m = JSON.parse(readFileSync(mpath, 'utf8'));
        return m.verification?.core?.ok === true && m.files?.core?.sha256 === expectedSha;
      });
      expect(verified).toBe(true);
    }
    // everything except dumpmag's long is untouched
    const now = readImage(big);
    now.set(big.original.subarray(mag().fileOff, mag().fileOff + 8), mag().fileOff);
    expect(sha256(now)).toBe(sha256(big.original));
    return { cores, invalidated };
  }

  it('SIGINT during -z: exit 130, no core, dump intact', async () => {
    const child = spawn(process.execPath, [BIN, 'savecore', '-z', ...args()], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (c) => {
      stderr += c;
      if (!sent && stderr.includes('writing compressed core to')) sent = child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    expect(stderr).toContain('cancelled');
    expect(code).toBe(130);
    expect(readdirSync(big.crashDir).filter((n) => n.startsWith('netbsd.') || n.includes('.partial-'))).toEqual([]);
    expect(isInvalidated(big)).toBe(false);
  }, 60_000);

  it('kill -9 at random points (≥ 10 runs): no incomplete netbsd.N.core, no unverified invalidation', async () => {
    // A full run first, to know how long one takes.
    const t0 = performance.now();
    const full = spawnSync(process.execPath, [BIN, 'savecore', ...args()], { encoding: 'utf8' });
    const fullMs = performance.now() - t0;
    expect(full.status).toBe(0);
    expect(checkInvariants().invalidated).toBe(true);
    restoreDumpmag();

    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const started = performance.now();
    let runs = 0;
    let killedMidway = 0;
    while (runs < 10 || (runs < 25 && performance.now() - started < 30_000)) {
      const delay = Math.floor(rand() * fullMs * 1.1);
      const child = spawn(process.execPath, [BIN, 'savecore', ...args()], { stdio: 'ignore' });
      const timer = setTimeout(() => child.kill('SIGKILL'), delay);
      const { code, signal } = await new Promise<{ code: number | null; signal: string | null }>((res) => child.on('exit', (c, s) => res({ code: c, signal: s })));
      clearTimeout(timer);
      runs++;
      if (signal === 'SIGKILL') killedMidway++;
      const { cores, invalidated } = checkInvariants();
      if (code === 0) expect(invalidated).toBe(true);
      if (invalidated) restoreDumpmag();
      for (const c of cores) rmSync(join(big.crashDir, c)); // keep disk use bounded
    }
    expect(runs).toBeGreaterThanOrEqual(10);
    expect(killedMidway).toBeGreaterThan(0);
    // A later run cleans up what the killed ones left and still works.
    const last = spawnSync(process.execPath, [BIN, 'savecore', ...args()], { encoding: 'utf8' });
    expect(last.status).toBe(0);
    checkInvariants();
    expect(readdirSync(big.crashDir).filter((n) => n.includes('.partial-'))).toEqual([]);
  }, 180_000);
});
