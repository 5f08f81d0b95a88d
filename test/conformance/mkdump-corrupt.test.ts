// Conformance against ../shared/tools/mkdump: every --corrupt kind valid for each flavour
// (msgbuf-bad-magic needs --triage and is covered with the triage tests). Rejected headers must
// give NetBSD's exact mkheader result and kvm_geterr() text; accepted ones every manifest value,
// with the manifest's as-built walk (walk / walk_read) for deliberately broken translations.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from './support/cli.ts';
import {
  checkInval, checkMkheader, checkNlist, checkPaProbes, checkProbes, checkScan, checkSymbols, checkWrtheader, dumpArgs,
} from './support/check-image.ts';
import { generate, MKDUMP_AVAILABLE, prefetch, SKIP_MESSAGE, type Generated } from './support/mkdump.ts';

const GENERIC = [
  'bad-magic', 'wrong-mid', 'wrong-flag', 'truncated-seg-hdr', 'truncated-cpu-hdr', 'csize-too-large', 'csize-huge',
  'zero-segments', 'overlapping-segments', 'pt-loop', 'pte-not-present', 'pt-in-hole', 'truncated-image', 'empty-image',
] as const;

const FLAVOURS = [
  { label: 'amd64', args: ['--arch', 'amd64'], only: [] as string[] },
  { label: 'i386', args: ['--arch', 'i386'], only: ['pae-flag-set'] },
  { label: 'i386 --pae', args: ['--arch', 'i386', '--pae'], only: ['pae-flag-cleared'] },
  { label: 'aarch64', args: ['--arch', 'aarch64'], only: ['tcr-bad-granule'] },
];

/** Headers kvm_dump_mkheader accepts: everything else is checked by the rejection tests. */
const ACCEPTED = new Set(['wrong-flag', 'zero-segments', 'overlapping-segments', 'pt-loop', 'pte-not-present', 'pt-in-hole', 'truncated-image', 'pae-flag-cleared', 'pae-flag-set', 'tcr-bad-granule']);
/** Every translation is broken: the direct map cannot reach the pa_probes either. */
const ALL_TRANSLATIONS_BROKEN = new Set(['pae-flag-cleared', 'pae-flag-set', 'tcr-bad-granule']);

const scratch = mkdtempSync(join(tmpdir(), 'kvmdump-corrupt-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

// 40 MiB of RAM (the minimum) and --sparse (free pages are holes; every 512th still carries its
// tag) keep the cached set small on disk (~60 images); seeds vary across the matrix.
const MATRIX = FLAVOURS.flatMap((f, fi) => [...GENERIC, ...f.only].map((kind, ki) => ({
  kind, label: `${f.label} --corrupt ${kind}`, args: [...f.args, '--seed', String(10 + fi * 20 + ki), '--mem-mib', '40', '--sparse', '--corrupt', kind],
})));
prefetch(MATRIX);

describe('mkdump conformance: corrupted images', () => {
  MATRIX.forEach(({ kind, label, args }) => {
    const image = (): Promise<Generated> => generate(args, label);

    describe(label, () => {
      it('mkheader (result and exact kvm_geterr text), wrtheader, scan', async (ctx) => {
        if (!MKDUMP_AVAILABLE) return ctx.skip(SKIP_MESSAGE);
        const g = await image();
        expect(g.manifest.corrupt).toBe(kind);
        expect(g.manifest.expect.mkheader.ret > 0).toBe(ACCEPTED.has(kind));
        expect([
          ...(await checkMkheader(g, cli)),
          ...(await checkWrtheader(g, cli, scratch)),
          ...(await checkScan(g, cli)),
        ]).toEqual([]);
      });

      if (ACCEPTED.has(kind)) {
        it('inval on a copy (expect.inval)', async (ctx) => {
          if (!MKDUMP_AVAILABLE) return ctx.skip(SKIP_MESSAGE);
          const g = await image();
          expect(g.manifest.expect.inval).toBeDefined();
          expect(await checkInval(g, cli, scratch)).toEqual([]);
        });

        it('symbols: reads and kvatop (as-built walk for broken translations)', async (ctx) => {
          if (!MKDUMP_AVAILABLE) return ctx.skip(SKIP_MESSAGE);
          const g = await image();
          const r = await checkSymbols(g, cli);
          expect(r.mismatches).toEqual([]);
          expect(r.reads).toBeGreaterThan(400);
          if (['pt-loop', 'pte-not-present', 'pt-in-hole'].includes(kind)) {
            expect(g.manifest.symbols.filter((s) => s.translation_corrupted).map((s) => s.name)).toContain('dumpmag');
          }
        });

        it('probes', async (ctx) => {
          if (!MKDUMP_AVAILABLE) return ctx.skip(SKIP_MESSAGE);
          const g = await image();
          expect(await checkProbes(g, cli)).toEqual([]);
        });

        it('pa_probes through the direct map / low-memory alias', async (ctx) => {
          if (!MKDUMP_AVAILABLE) return ctx.skip(SKIP_MESSAGE);
          const g = await image();
          if (ALL_TRANSLATIONS_BROKEN.has(kind) || (kind === 'zero-segments' && g.manifest.arch !== 'aarch64')) {
            // Page-table reads resolve through a broken header: no direct map to reach PAs with.
            const dm = g.manifest.probes.find((p) => /direct map|alias/.test(p.name));
            if (dm) {
              const k = await cli(['kvatop', ...dumpArgs(g), '--va', dm.va]);
              expect(k.json.pa === dm.chunks[0]?.pa && k.json.result > 0).toBe(false);
            }
            return;
          }
          const r = await checkPaProbes(g, cli);
          expect(r.mismatches).toEqual([]);
        });
      } else {
        it('rejected header: nlist still works, reads fail with "no valid dump header", inval writes nothing', async (ctx) => {
          if (!MKDUMP_AVAILABLE) return ctx.skip(SKIP_MESSAGE);
          const g = await image();
          for (const name of ['dumpmag', 'version', 'hostname']) {
            const s = g.manifest.symbols.find((x) => x.name === name)!;
            const r = await cli(['read', ...dumpArgs(g), '--symbol', name, '--length', String(s.size)]);
            expect([name, r.code, r.json.result, r.json.error, r.json.hex]).toEqual([name, 1, -1, 'no valid dump header', '']);
            const nl = await cli(['nlist', '--kernel', g.kernel, '--json', `_${name}`]);
            expect(nl.json.symbols[`_${name}`]).toBe(s.va);
          }
          if (g.manifest.files.dump.size > 0) {
            const copy = join(scratch, `rejected-${kind}.img`);
            const bytes = readFileSync(g.dump);
            const { writeFileSync } = await import('node:fs');
            writeFileSync(copy, bytes);
            const r = await cli(['inval', ...dumpArgs(g, copy), '--yes']);
            expect([r.code, r.json.result]).toEqual([1, -1]);
            expect(sha256(readFileSync(copy))).toBe(g.manifest.files.dump.sha256);
            rmSync(copy);
          }
        });
      }

      it('nlist (the kernel is intact)', async (ctx) => {
        if (!MKDUMP_AVAILABLE) return ctx.skip(SKIP_MESSAGE);
        const g = await image();
        expect(await checkNlist(g, cli)).toEqual([]);
      });
    });
  });
});
