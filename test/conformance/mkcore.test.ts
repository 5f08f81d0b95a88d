// savecore core files made by ../shared/tools/mkdump/mkcore.py from valid mkdump images: the CLI
// opens them without --dump-offset (format B, spec 1.2 / 4.9) and must meet core-manifest.json;
// a `gzip -1` copy must read the same.

import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, type CliResult } from './support/cli.ts';
import { generate, generateCore, MKDUMP_AVAILABLE, prefetch, SKIP_MESSAGE, type GeneratedCore } from './support/mkdump.ts';
import { headerSegments, hexAddr, ImageFile } from './support/reader-model.ts';

const VARIANTS = [
  { label: 'amd64 seed 1', args: ['--arch', 'amd64', '--seed', '1'] },
  { label: 'i386 seed 2', args: ['--arch', 'i386', '--seed', '2'] },
  { label: 'i386 --pae seed 7', args: ['--arch', 'i386', '--pae', '--seed', '7'] },
  { label: 'aarch64 seed 1', args: ['--arch', 'aarch64', '--seed', '1'] },
  { label: 'amd64 --high-mib 64', args: ['--arch', 'amd64', '--seed', '4', '--high-mib', '64'] },
  { label: 'amd64 --dumplo 123457', args: ['--arch', 'amd64', '--seed', '3', '--dumplo', '123457'] },
  { label: 'aarch64 --sparse', args: ['--arch', 'aarch64', '--seed', '5', '--sparse'] },
];

prefetch(VARIANTS);

const scratch = mkdtempSync(join(tmpdir(), 'kvmdump-mkcore-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const coreArgs = (c: GeneratedCore, dump = c.core) => ['--kernel', c.kernel, '--dump', dump, '--json'];

describe('mkcore conformance: savecore core files', () => {
  for (const v of VARIANTS) {
    describe(v.label, () => {
      const make = async () => {
        const g = await generate(v.args, v.label);
        return { g, c: await generateCore(g) };
      };

      it('open: header loaded (mkheader -1 "already has a dump header", cpu_dsize, dump_off, memsegs)', async (ctx) => {
        if (!MKDUMP_AVAILABLE) return ctx.skip(SKIP_MESSAGE);
        const { g, c } = await make();
        const e = c.manifest.expect;
        expect(sha256(readFileSync(c.core))).toBe(c.manifest.files.core.sha256);
        for (const dump of [c.core, c.coreGz]) {
          const r = await cli(['mkheader', ...coreArgs(c, dump)]);
          expect([r.code, r.json.result, r.json.error]).toEqual([1, e.mkheader.ret, e.mkheader.errbuf]);
          expect([r.json.dumpOffset, r.json.cpuDataSize]).toEqual([e.open.dump_off, e.open.cpu_dsize]);
          expect(r.json.memsegs).toEqual(headerSegments(g.manifest).map((s) => ({ start: hexAddr(s.start), size: hexAddr(s.size) })));
          // mkheader with an offset changes nothing on a core: the loaded header wins.
          const r2 = await cli(['mkheader', ...coreArgs(c, dump), '--dump-offset', String(g.manifest.dump_off)]);
          expect([r2.json.result, r2.json.error]).toEqual([-1, 'already has a dump header']);
        }
      });

      it('wrtheader reproduces the first D bytes of the core (plain and gzip)', async (ctx) => {
        if (!MKDUMP_AVAILABLE) return ctx.skip(SKIP_MESSAGE);
        const { c } = await make();
        const D = c.manifest.format_b.header_len;
        const head = new ImageFile(c.core, c.manifest.files.core.size);
        try {
          expect(head.bytes(0, D).toString('hex')).toBe(c.manifest.format_b.header_hex);
          const cases = Object.entries(c.manifest.expect.wrtheader);
          expect(cases.length).toBe(1);
          for (const dump of [c.core, c.coreGz]) {
            for (const [dumpsize, want] of cases) {
              const out = join(scratch, 'core-wrt.bin');
              const r = await cli(['wrtheader', ...coreArgs(c, dump), '--dumpsize', dumpsize, '--out', out]);
              expect([r.code, r.json.result, r.json.error]).toEqual([0, want.ret, '']);
              const bytes = readFileSync(out);
              expect([bytes.length, sha256(bytes)]).toEqual([want.len, want.sha256]);
              expect(bytes.toString('hex')).toBe(head.bytes(0, D).toString('hex'));
              rmSync(out);
            }
          }
        } finally {
          head.close();
        }
      });

      it('reads and kvatop of every symbol in core-manifest.json (plain, then gzip)', async (ctx) => {
        if (!MKDUMP_AVAILABLE) return ctx.skip(SKIP_MESSAGE);
        const { c } = await make();
        expect(c.manifest.symbols.length).toBeGreaterThan(15);
        const problems: string[] = [];
        const check = (what: string, got: unknown, want: unknown) => {
          if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
        };
        const plain = new Map<string, CliResult['json']>();
        for (const s of c.manifest.symbols) {
          if (s.value_hex === undefined) continue;
          const r = await cli(['read', ...coreArgs(c), '--va', s.va, '--length', String(s.size)]);
          plain.set(s.va, r.json);
          if (s.core_readable) check(`read ${s.name}`, [r.code, r.json.result, r.json.error, r.json.hex], [0, s.size, '', s.value_hex]);
          else check(`read ${s.name} (not in the core)`, r.json.result < s.size, true);
          if (s.core_off != null) {
            const k = await cli(['kvatop', ...coreArgs(c), '--va', s.va]);
            check(`kvatop ${s.name}`, [k.json.pa, k.json.offset], [s.pa, s.core_off]);
          }
        }
        // The gzip'd core gives byte-identical answers (named symbols: each open indexes the gzip stream).
        for (const s of c.manifest.symbols) {
          if (s.value_hex === undefined) continue;
          const r = await cli(['read', ...coreArgs(c, c.coreGz), '--va', s.va, '--length', String(s.size)]);
          check(`read ${s.name} from the .gz core`, r.json, plain.get(s.va));
        }
        expect(problems).toEqual([]);
      });

      it('inval on a copy of the core zeroes sizeof(u_long) bytes at dumpmag; the .gz is refused', async (ctx) => {
        if (!MKDUMP_AVAILABLE) return ctx.skip(SKIP_MESSAGE);
        const { g, c } = await make();
        const e = c.manifest.expect.inval;
        const copy = join(scratch, 'inval.core');
        copyFileSync(c.core, copy);
        try {
          const r = await cli(['inval', ...coreArgs(c, copy), '--yes']);
          expect([r.code, r.json.result, r.json.error]).toEqual([0, e.ret, '']);
          expect([r.json.offset, r.json.length]).toEqual([e.core_off, e.bytes_zeroed]);
          const img = new ImageFile(copy, c.manifest.files.core.size);
          try {
            expect(img.bytes(e.core_off!, e.bytes_zeroed!).toString('hex')).toBe('00'.repeat(e.bytes_zeroed!));
          } finally {
            img.close();
          }
          const dumpmag = g.manifest.symbols.find((s) => s.name === 'dumpmag')!;
          const rr = await cli(['read', ...coreArgs(c, copy), '--symbol', 'dumpmag', '--length', '4']);
          expect(rr.json.hex).toBe('00000000');
          expect(dumpmag.value_hex).toBe('0101ca8f');
          const all = readFileSync(copy);
          readFileSync(c.core).copy(all, e.core_off!, e.core_off!, e.core_off! + e.bytes_zeroed!);
          expect(sha256(all)).toBe(c.manifest.files.core.sha256);
        } finally {
          rmSync(copy, { force: true });
        }
        // A compressed core cannot be written in place: refused, nothing written.
        const gzCopy = join(scratch, 'inval.core.gz');
        copyFileSync(c.coreGz, gzCopy);
        const before = sha256(readFileSync(gzCopy));
        const r = await cli(['inval', ...coreArgs(c, gzCopy), '--yes']);
        expect([r.code, r.json.result]).toEqual([1, -1]);
        expect(sha256(readFileSync(gzCopy))).toBe(before);
        expect(existsSync(gzCopy)).toBe(true);
        rmSync(gzCopy);
      });
    });
  }
});
