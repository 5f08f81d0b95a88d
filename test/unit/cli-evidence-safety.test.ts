// Issue 9, items 1 and 3: the CLI never destroys what it is given (wrtheader --out, read --out),
// large reads run in bounded memory, and --json prints exactly one JSON object whatever happens.
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, lstatSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDumpImage, type DumpImage } from '../fixtures/dump-image.ts';
import { kvmdump, writeFixture } from '../fixtures/cli.ts';

let img: DumpImage;
let f: { dir: string; kernel: string; dump: string };
let base: string[];

beforeAll(async () => {
  img = buildDumpImage({ flavour: 'amd64', seed: 9, dumplo: 64 });
  f = await writeFixture(img, 'evidence');
  base = ['--kernel', f.kernel, '--dump', f.dump, '--dump-offset', String(img.facts.dumpOff)];
});

const dumpsize = () => String(img.facts.dumpsizePages * 4096);

describe('wrtheader --out never replaces a file', () => {
  it('refuses the dump itself and leaves it whole', () => {
    const before = readFileSync(f.dump);
    const r = kvmdump(['wrtheader', ...base, '--dumpsize', dumpsize(), '--out', f.dump, '--json']);
    expect(r.code).toBe(1);
    expect(r.json.refused).toMatch(/is the dump or kernel being examined/);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(Buffer.compare(readFileSync(f.dump), before)).toBe(0);
  });

  it('refuses an existing file, a symlink onto one and a device', () => {
    const existing = join(f.dir, 'notes.txt');
    writeFileSync(existing, 'analyst notes');
    const r1 = kvmdump(['wrtheader', ...base, '--dumpsize', dumpsize(), '--out', existing, '--json']);
    expect(r1.code).toBe(1);
    expect(r1.json.refused).toMatch(/already exists/);
    expect(readFileSync(existing, 'utf8')).toBe('analyst notes');

    const link = join(f.dir, 'link-to-notes');
    symlinkSync(existing, link);
    const r2 = kvmdump(['wrtheader', ...base, '--dumpsize', dumpsize(), '--out', link, '--json']);
    expect(r2.json.refused).toMatch(/symbolic link/);
    expect(readFileSync(existing, 'utf8')).toBe('analyst notes');

    const dangling = join(f.dir, 'dangling');
    symlinkSync(join(f.dir, 'nowhere'), dangling);
    const r3 = kvmdump(['wrtheader', ...base, '--dumpsize', dumpsize(), '--out', dangling, '--json']);
    expect(r3.code).toBe(1);
    expect(existsSync(join(f.dir, 'nowhere'))).toBe(false);

    const r4 = kvmdump(['wrtheader', ...base, '--dumpsize', dumpsize(), '--out', '/dev/null', '--json']);
    expect(r4.code).toBe(1);
    expect(r4.json.refused).toMatch(/is a device/);
  });

  it('writes a new file', () => {
    const out = join(f.dir, 'fresh.hdr');
    const r = kvmdump(['wrtheader', ...base, '--dumpsize', dumpsize(), '--out', out, '--json']);
    expect(r.json.result).toBe(536);
    expect(statSync(out).size).toBe(536);
    expect(lstatSync(out).isFile()).toBe(true);
  });
});

describe('read: large lengths', () => {
  it('--json above the one-object limit is refused with a reason, not a crash', () => {
    const r = kvmdump(['read', ...base, '--va', '0xffffffff80000000', '--length', '0x100000000000', '--json']);
    expect(r.code).toBe(1);
    expect(r.json.refused).toMatch(/--out FILE/);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('--out streams the bytes into a new file, the same bytes a single read gives', () => {
    const va = '0x' + img.facts.symbols.hostname.va.toString(16);
    const one = kvmdump(['read', ...base, '--va', va, '--length', '4096', '--json']);
    const out = join(f.dir, 'hostname.bin');
    const r = kvmdump(['read', ...base, '--va', va, '--length', '4096', '--out', out, '--json']);
    expect(r.json).toMatchObject({ result: one.json.result, bytesWritten: one.json.result });
    expect(readFileSync(out).toString('hex')).toBe(one.json.hex);
    const again = kvmdump(['read', ...base, '--va', va, '--length', '16', '--out', out, '--json']);
    expect(again.json.refused).toMatch(/already exists/);
  });

  it('a huge read without --json stops at the first untranslated page with kvm_read\'s -1', () => {
    const va = '0x' + img.facts.symbols.hostname.va.toString(16);
    const r = kvmdump(['read', ...base, '--va', va, '--length', '0x100000000000']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/kvm_read\(0x[0-9a-f]+, 17592186044416\): -1 \(_kvm_kvatop\(/);
  });
});

describe('--json prints exactly one JSON object whatever happens', () => {
  it('a usage error', () => {
    const r = kvmdump(['read', '--dump', f.dump, '--length', '4', '--json']);
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ result: null, kind: 'usage' });
  });
  it('a bad number', () => {
    const r = kvmdump(['mkheader', ...base.slice(0, 4), '--dump-offset', '12zz', '--json']);
    expect(r.code).toBe(1);
    expect(r.json.error).toMatch(/'12zz' is not a number/);
  });
});
