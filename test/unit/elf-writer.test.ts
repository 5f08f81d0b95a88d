// The fixture writer itself: binutils' readelf must accept what it writes (skipped without readelf).

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildElf, ELF_VARIANTS as VARIANTS, sampleKernel } from '../fixtures/elf.ts';

const hasReadelf = spawnSync('readelf', ['--version']).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'elf-writer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function readelf(bytes: Uint8Array, name: string): { out: string; err: string } {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  const r = spawnSync('readelf', ['-a', '-W', path], { encoding: 'utf8' });
  return { out: r.stdout, err: r.stderr };
}

describe('buildElf', () => {
  it('is deterministic', () => {
    const v = VARIANTS[0];
    expect(buildElf(sampleKernel(v))).toEqual(buildElf(sampleKernel(v)));
  });

  describe.skipIf(!hasReadelf)('readelf accepts the output', () => {
    for (const v of VARIANTS) {
      for (const segments of ['per-section', 'merged'] as const) {
        it(`${v.label} ${segments}`, () => {
          const { out, err } = readelf(buildElf({ ...sampleKernel(v), segments, extraSymtab: true }), `${v.label}-${segments}`);
          expect(err).toBe('');
          expect(out).toContain(v.elfClass === 64 ? 'ELF64' : 'ELF32');
          expect(out).toContain(v.littleEndian ? 'little endian' : 'big endian');
          expect(out).toContain('EXEC (Executable file)');
          expect(out).toMatch(/Symbol table '\.symtab' contains \d+ entries/);
          expect(out).toMatch(/Symbol table '\.symtab\.old' contains \d+ entries/);
          expect(out).toMatch(/ dumpmag\n/);
          expect(out).toContain('LOAD');
        });
      }
    }
    it('p_paddr = vaddr - loadPaOffset', () => {
      const v = VARIANTS.find((x) => x.elfClass === 64 && x.littleEndian)!;
      const path = join(dir, 'pa');
      writeFileSync(path, buildElf({ ...sampleKernel(v), loadPaOffset: 0xffffffff80000000n }));
      const out = execFileSync('readelf', ['-l', '-W', path], { encoding: 'utf8' });
      expect(out).toMatch(/LOAD\s+0x[0-9a-f]+ 0xffffffff80200000 0x0000000000200000/);
    });
  });
});
