// The bundled CLI (scripts/build-cli.mjs, the second half of npm run build:node) that bin/kvmdump.mjs
// prefers: built here into a directory of its own, it must answer like the CLI from the sources —
// commander (CommonJS) inside an ES module bundle, commands in lazily imported chunks, the package
// root found from its directory — and bin/kvmdump.mjs must pick the newer of bundle and tsc output.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDumpImage } from '../fixtures/dump-image.ts';

const ROOT = join(import.meta.dirname, '../..');
const OUT = join(ROOT, 'dist', `cli-test-${process.pid}`); // inside the package: the CLI finds package.json from there
let dir = '';

function runBundle(argv: string[]) {
  const code = `import(${JSON.stringify(pathToFileURL(join(OUT, 'main.js')).href)}).then(async (m) => { process.exitCode = await m.main(${JSON.stringify(argv)}); })`;
  return spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8' });
}

beforeAll(() => {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-cli.mjs'), '--outdir', OUT], { cwd: ROOT, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  dir = mkdtempSync(join(tmpdir(), 'kvmdump-bundle-'));
}, 120_000);

afterAll(() => {
  rmSync(OUT, { recursive: true, force: true });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the bundled CLI', () => {
  it('prints its help and version', () => {
    const help = runBundle(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('scan');
    const version = runBundle(['--version']);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('scans an image (a lazily loaded command) and finds its header', () => {
    const img = buildDumpImage({ flavour: 'i386', seed: 9, dumplo: 4097 });
    const file = join(dir, 'disk.img');
    writeFileSync(file, img.toBytes());
    const r = runBundle(['scan', '--dump', file, '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).candidates.map((c: { offset: number; machine: string }) => [c.offset, c.machine])).toEqual([[img.facts.dumpOff, 'i386']]);
  });

  it('reports a usage error as the CLI does', () => {
    const r = runBundle(['scan', '--json']);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: expect.stringContaining('--dump') });
  });
});
