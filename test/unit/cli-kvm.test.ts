// The CLI contract of issue 2, through the real bin/kvmdump.mjs: JSON shapes, exact error text,
// exit codes, and that --json prints one object and nothing else on stdout.
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildDumpImage, type DumpImage } from '../fixtures/dump-image.ts';
import { kvmdump, writeFixture } from '../fixtures/cli.ts';
import { toHex } from '../../core/format/bytes.ts';

type Files = { dir: string; kernel: string; dump: string };
const images: Record<string, { img: DumpImage; f: Files }> = {};

beforeAll(async () => {
  for (const flavour of ['amd64', 'i386', 'i386pae', 'aarch64'] as const) {
    const img = buildDumpImage({ flavour, seed: 21, dumplo: flavour === 'i386' ? 12345 : 64 });
    images[flavour] = { img, f: await writeFixture(img, flavour) };
  }
});

const base = (flavour: string) => {
  const { img, f } = images[flavour];
  return ['--kernel', f.kernel, '--dump', f.dump, '--dump-offset', String(img.facts.dumpOff)];
};

describe('kvmdump mkheader', () => {
  it.each(['amd64', 'i386', 'i386pae', 'aarch64'])('%s: result, machine, dumpOffset, cpuDataSize, memsegs', (flavour) => {
    const { img } = images[flavour];
    const r = kvmdump(['mkheader', ...base(flavour), '--json']);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({
      result: 512, error: '', machine: flavour, dumpOffset: img.facts.memOff, cpuDataSize: flavour === 'aarch64' ? 496 : 504,
      memsegs: img.facts.segments.map((s) => ({ start: '0x' + s.start.toString(16), size: '0x' + s.size.toString(16) })),
    });
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('accepts the offset in hex', () => {
    const { img, f } = images.amd64;
    const r = kvmdump(['mkheader', '--kernel', f.kernel, '--dump', f.dump, '--dump-offset', '0x' + img.facts.dumpOff.toString(16), '--json']);
    expect(r.json.result).toBe(512);
  });

  it('no header at the offset: result 0 (kept in the JSON), exit 1, "invalid magic in cpu_hdr"', () => {
    const { f } = images.amd64;
    const r = kvmdump(['mkheader', '--kernel', f.kernel, '--dump', f.dump, '--dump-offset', '0', '--json']);
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ result: 0, error: 'invalid magic in cpu_hdr', machine: null, dumpOffset: null, cpuDataSize: 0, memsegs: [] });
  });

  it('--machine pins the architecture: another MID is refused', () => {
    const r = kvmdump(['mkheader', ...base('aarch64'), '--machine', 'amd64', '--json']);
    expect(r.json).toMatchObject({ result: 0, error: 'invalid magic in cpu_hdr' });
  });

  it('an offset past the end of the image: -1, exit 1, the read error', () => {
    const { img, f } = images.i386;
    const off = img.size + 512;
    const r = kvmdump(['mkheader', '--kernel', f.kernel, '--dump', f.dump, '--dump-offset', String(off), '--json']);
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ result: -1, error: `read 8 bytes at offset ${off.toString(16)} for cpu_hdr failed: Invalid argument` });
  });

  it('a missing file: -1, exit 1, "<path>: No such file or directory"', () => {
    const r = kvmdump(['mkheader', '--kernel', '/nonexistent/netbsd', '--dump', '/nonexistent/dump', '--dump-offset', '0', '--json']);
    expect(r.code).toBe(1);
    expect(r.json.error).toBe('/nonexistent/netbsd: No such file or directory');
  });

  it('a bad number is a usage error naming the option', () => {
    const { f } = images.amd64;
    const r = kvmdump(['mkheader', '--kernel', f.kernel, '--dump', f.dump, '--dump-offset', '12k']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("--dump-offset: '12k' is not a number");
  });

  it('human output names the machine and segments', () => {
    const r = kvmdump(['mkheader', ...base('amd64')]);
    expect(r.stdout).toContain('kvm_dump_mkheader: 512');
    expect(r.stdout).toContain('machine: amd64');
  });
});

describe('kvmdump wrtheader', () => {
  it.each([['amd64', 536], ['i386', 532], ['aarch64', 544]] as const)('%s: FILE holds exactly the D bytes written', (flavour, d) => {
    const { img, f } = images[flavour];
    const out = join(f.dir, 'hdr.bin');
    const r = kvmdump(['wrtheader', ...base(flavour), '--dumpsize', String(img.facts.dumpsizePages * 4096), '--out', out, '--json']);
    expect(r.json).toEqual({ result: d, error: '' });
    const bytes = readFileSync(out);
    expect(bytes.length).toBe(d);
    expect(toHex(bytes.subarray(d - (flavour === 'aarch64' ? 16 : 8)))).toMatch(/^08008fac/);
    expect(toHex(bytes.subarray(bytes.length - (flavour === 'aarch64' ? 16 : 8) + 4, bytes.length - (flavour === 'aarch64' ? 8 : 0))))
      .toBe(toHex(new Uint8Array(new Uint32Array([img.facts.dumpsizePages * 4096]).buffer)));
  });

  it('without a header: -1 "no valid dump header(s)"', () => {
    const { f } = images.amd64;
    const r = kvmdump(['wrtheader', '--kernel', f.kernel, '--dump', f.dump, '--dump-offset', '0', '--dumpsize', '0', '--out', join(f.dir, 'x'), '--json']);
    expect(r.code).toBe(1);
    expect(r.json).toEqual({ result: -1, error: 'no valid dump header(s)' });
  });
});

describe('kvmdump read, kvatop, nlist', () => {
  it.each(['amd64', 'i386', 'i386pae', 'aarch64'])('%s: read --symbol dumpmag gives 01 01 ca 8f', (flavour) => {
    const r = kvmdump(['read', ...base(flavour), '--symbol', 'dumpmag', '--length', '4', '--json']);
    expect(r.json).toEqual({ result: 4, error: '', hex: '0101ca8f' });
  });

  it('read --va of the version string', () => {
    const { img } = images.aarch64;
    const v = img.facts.symbols.version;
    const r = kvmdump(['read', ...base('aarch64'), '--va', '0x' + v.va.toString(16), '--length', String(v.bytes.length), '--json']);
    expect(r.json.hex).toBe(toHex(v.bytes));
  });

  it('read of an unmapped address: -1, exit 1, "_kvm_kvatop(va)"', () => {
    const r = kvmdump(['read', ...base('amd64'), '--va', '0xffffffff90000000', '--length', '8', '--json']);
    expect(r.code).toBe(1);
    expect(r.json).toEqual({ result: -1, error: '_kvm_kvatop(ffffffff90000000)', hex: '' });
  });

  it('kvatop of an address without a translation: "result":0 kept, the reason, exit 1', () => {
    const r = kvmdump(['kvatop', ...base('amd64'), '--va', '0x1000', '--json']);
    expect(r.json).toMatchObject({ result: 0, pa: '0xffffffffffffffff', offset: null });
    expect(r.json.error).not.toBe('');
    expect(r.code).toBe(1);
  });

  it('kvatop gives pa and the file offset', () => {
    const { img } = images.i386pae;
    const s = img.facts.symbols.hostname;
    const r = kvmdump(['kvatop', ...base('i386pae'), '--va', '0x' + s.va.toString(16), '--json']);
    expect(r.json).toEqual({ result: 100, error: '', pa: '0x' + s.pa.toString(16), offset: s.fileOff });
  });

  it('nlist: found names give their address, missing ones null', () => {
    const { img, f } = images.amd64;
    const r = kvmdump(['nlist', '--kernel', f.kernel, '--json', '_dumpmag', 'version', 'no_such_symbol']);
    expect(r.json.symbols).toEqual({ _dumpmag: '0x' + img.facts.symbols.dumpmag.va.toString(16), version: '0x' + img.facts.symbols.version.va.toString(16), no_such_symbol: null });
    expect(r.code).toBe(0);
  });

  it('nlist of a file that is not ELF: exit 1, "bad namelist"', () => {
    const { f } = images.amd64;
    const r = kvmdump(['nlist', '--kernel', f.dump, '--json', 'dumpmag']);
    expect(r.code).toBe(1);
    expect(r.json.error).toBe('bad namelist');
  });
});

describe('kvmdump inval', () => {
  it('refuses without --yes and writes nothing', () => {
    const { img, f } = images.amd64;
    const before = readFileSync(f.dump);
    const r = kvmdump(['inval', ...base('amd64'), '--json']);
    expect(r.code).toBe(1);
    expect(r.json.result).toBe(-1);
    expect(r.json.refused).toMatch(/--yes/);
    expect(Buffer.compare(readFileSync(f.dump), before)).toBe(0);
    void img;
  });

  it.each(['amd64', 'i386', 'aarch64'])('%s: with --yes zeroes sizeof(u_long) bytes at dumpmag', (flavour) => {
    const { img, f } = images[flavour];
    const copy = join(f.dir, 'copy.img');
    copyFileSync(f.dump, copy);
    const args = ['--kernel', f.kernel, '--dump', copy, '--dump-offset', String(img.facts.dumpOff)];
    const r = kvmdump(['inval', ...args, '--yes', '--json']);
    const dm = img.facts.symbols.dumpmag;
    expect(r.json).toEqual({ result: 0, error: '', offset: dm.fileOff, length: img.facts.layout.longSize });
    const after = readFileSync(copy);
    expect(after.subarray(dm.fileOff, dm.fileOff + img.facts.layout.longSize).every((b) => b === 0)).toBe(true);
    expect(kvmdump(['read', ...args, '--symbol', 'dumpmag', '--length', '4', '--json']).json.hex).toBe('00000000');
  });
});

describe('savecore core files as --dump', () => {
  it('plain and gzip: no --dump-offset needed, mkheader "already has a dump header", reads work', () => {
    const { img, f } = images.amd64;
    const hdr = join(f.dir, 'core-hdr');
    kvmdump(['wrtheader', ...base('amd64'), '--dumpsize', String(img.facts.dumpsizePages * 4096), '--out', hdr]);
    const core = Buffer.concat([readFileSync(hdr), readFileSync(f.dump).subarray(img.facts.memOff)]);
    const plain = join(f.dir, 'netbsd.0.core');
    writeFileSync(plain, core);
    writeFileSync(plain + '.gz', gzipSync(core, { level: 1 }));
    for (const path of [plain, plain + '.gz']) {
      const mk = kvmdump(['mkheader', '--kernel', f.kernel, '--dump', path, '--json']);
      expect(mk.code).toBe(1);
      expect(mk.json).toMatchObject({ result: -1, error: 'already has a dump header', machine: 'amd64', dumpOffset: 536, cpuDataSize: 504 });
      const rd = kvmdump(['read', '--kernel', f.kernel, '--dump', path, '--symbol', 'hostname', '--length', '256', '--json']);
      expect(rd.json.hex).toBe(toHex(img.facts.symbols.hostname.bytes));
      const out = join(f.dir, `again-${path.endsWith('.gz') ? 'gz' : 'plain'}.bin`); // outputs are never overwritten
      expect(kvmdump(['wrtheader', '--kernel', f.kernel, '--dump', path, '--dumpsize', String(img.facts.dumpsizePages * 4096), '--out', out, '--json']).json.result).toBe(536);
      expect(Buffer.compare(readFileSync(out), readFileSync(hdr))).toBe(0);
    }
  });

  it('a dump image without --dump-offset is a usage error pointing at scan', () => {
    const { f } = images.amd64;
    const r = kvmdump(['read', '--kernel', f.kernel, '--dump', f.dump, '--symbol', 'dumpmag', '--length', '4']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('kvmdump scan');
  });
});

describe('kvmdump scan', () => {
  it('finds the header at dumplo * 512 with machine and header size', () => {
    for (const flavour of ['amd64', 'i386', 'i386pae', 'aarch64']) {
      const { img, f } = images[flavour];
      const r = kvmdump(['scan', '--dump', f.dump, '--json']);
      expect(r.json.candidates).toEqual([expect.objectContaining({ offset: img.facts.dumpOff, machine: flavour, headerSize: 512, complete: true })]);
    }
  });

  it('scans a gzip-compressed device image over its decompressed bytes (offsets of the image inside)', () => {
    const { img, f } = images.i386;
    const gz = join(f.dir, 'dump.img.gz');
    writeFileSync(gz, gzipSync(readFileSync(f.dump), { level: 1 }));
    const r = kvmdump(['scan', '--dump', gz, '--json', '--progress']);
    expect(r.code).toBe(0);
    expect(r.json.candidates).toEqual([expect.objectContaining({ offset: img.facts.dumpOff, machine: 'i386', headerSize: 512, complete: true })]);
    // progress counts the uncompressed image, ending at its full size
    expect(r.stderr).toContain(`scanned ${img.size} of ${img.size} bytes`);
  });

  it('a file without dumps: no candidates, exit 0', () => {
    const { f } = images.amd64;
    const r = kvmdump(['scan', '--dump', f.kernel, '--json']);
    expect(r.code).toBe(0);
    expect(r.json).toEqual({ candidates: [] });
  });
});
