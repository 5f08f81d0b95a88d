// Conformance against the independent generator ../shared/tools/mkdump (valid images): every value
// in each manifest checked through the kvmdump CLI. Corrupted images: mkdump-corrupt.test.ts;
// savecore core files: mkcore.test.ts. Without the generator every test skips itself.
//
// Most commands run main() in-process (thousands of calls); the "spawned" block runs the real
// bin/kvmdump.mjs for each command on a subset of images.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, ensureBuilt, spawnCli } from './support/cli.ts';
import {
  checkInval, checkMkheader, checkNlist, checkPaProbes, checkProbes, checkScan, checkSymbols, checkWrtheader, dumpArgs,
} from './support/check-image.ts';
import { generate, MKDUMP_AVAILABLE, prefetch, SKIP_MESSAGE, type Generated } from './support/mkdump.ts';

interface Variant {
  label: string;
  args: string[];
}

const ARCHES: Variant[] = [
  { label: 'amd64', args: ['--arch', 'amd64'] },
  { label: 'i386', args: ['--arch', 'i386'] },
  { label: 'i386 --pae', args: ['--arch', 'i386', '--pae'] },
  { label: 'aarch64', args: ['--arch', 'aarch64'] },
];

export const VALID_VARIANTS: Variant[] = [
  ...[1, 2, 7].flatMap((seed) => ARCHES.map((a) => ({ label: `${a.label} seed ${seed}`, args: [...a.args, '--seed', String(seed)] }))),
  ...ARCHES.map((a) => ({ label: `${a.label} --dumplo 123457`, args: [...a.args, '--seed', '3', '--dumplo', '123457'] })),
  { label: 'amd64 --high-mib 64', args: ['--arch', 'amd64', '--seed', '4', '--high-mib', '64'] },
  { label: 'i386 --pae --high-mib 64', args: ['--arch', 'i386', '--pae', '--seed', '4', '--high-mib', '64'] },
  { label: 'aarch64 --high-mib 64', args: ['--arch', 'aarch64', '--seed', '4', '--high-mib', '64'] },
  { label: 'amd64 --sparse', args: ['--arch', 'amd64', '--seed', '5', '--sparse'] },
  { label: 'aarch64 --sparse', args: ['--arch', 'aarch64', '--seed', '5', '--sparse'] },
  { label: 'amd64 --sparse --mem-mib 4096 (RAM above 4 GiB, offsets past 2^32)', args: ['--arch', 'amd64', '--seed', '6', '--sparse', '--mem-mib', '4096'] },
];

prefetch(VALID_VARIANTS);

const scratch = mkdtempSync(join(tmpdir(), 'kvmdump-conformance-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function image(v: Variant): Promise<Generated> {
  return generate(v.args, v.label);
}

describe('mkdump conformance: valid images', () => {
  for (const v of VALID_VARIANTS) {
    describe(v.label, () => {
      it('mkheader: result, error, header size, cpu data size, memsegs', async (ctx) => {
        if (!MKDUMP_AVAILABLE) return ctx.skip(SKIP_MESSAGE);
        const g = await image(v);
        expect(g.manifest.expect.mkheader.ret).toBeGreaterThan(0);
        expect(await checkMkheader(g, cli)).toEqual([]);
      });

      it('wrtheader: every dumpsize in expect.wrtheader (ret, length, sha256)', async (ctx) => {
        if (!MKDUMP_AVAILABLE) return ctx.skip(SKIP_MESSAGE);
        const g = await image(v);
        expect(await checkWrtheader(g, cli, scratch)).toEqual([]);
      });

      it('inval on a copy: offset, length, zeroed bytes, nothing else touched', async (ctx) => {
        if (!MKDUMP_AVAILABLE) return ctx.skip(SKIP_MESSAGE);
        const g = await image(v);
        expect(await checkInval(g, cli, scratch)).toEqual([]);
      });

      it('symbols: read (by VA and by name) and kvatop of every symbol', async (ctx) => {
        if (!MKDUMP_AVAILABLE) return ctx.skip(SKIP_MESSAGE);
        const g = await image(v);
        const r = await checkSymbols(g, cli);
        expect(r.mismatches).toEqual([]);
        expect(r.reads).toBeGreaterThan(400);
      });

      it('probes: reads and the documented reader quirks', async (ctx) => {
        if (!MKDUMP_AVAILABLE) return ctx.skip(SKIP_MESSAGE);
        const g = await image(v);
        expect(g.manifest.probes.length).toBeGreaterThan(10);
        expect(await checkProbes(g, cli)).toEqual([]);
      });

      it('pa_probes: kvatop through a mapping of each PA gives the intended file offset', async (ctx) => {
        if (!MKDUMP_AVAILABLE) return ctx.skip(SKIP_MESSAGE);
        const g = await image(v);
        const r = await checkPaProbes(g, cli);
        expect(r.mismatches).toEqual([]);
        // Direct maps (amd64, aarch64) reach every dumped PA; i386 only its low-memory aliases.
        expect(r.checked).toBeGreaterThan(g.manifest.arch === 'i386' ? 2 : 8);
      });

      it('nlist: every symbol, batches and the quirk lists against the spec 6.3 model', async (ctx) => {
        if (!MKDUMP_AVAILABLE) return ctx.skip(SKIP_MESSAGE);
        const g = await image(v);
        expect(await checkNlist(g, cli)).toEqual([]);
      });

      it('scan finds the header at dump_off', async (ctx) => {
        if (!MKDUMP_AVAILABLE) return ctx.skip(SKIP_MESSAGE);
        const g = await image(v);
        expect(await checkScan(g, cli)).toEqual([]);
      });
    });
  }
});

describe('mkdump conformance: the real bin/kvmdump.mjs (spawned)', () => {
  const SPAWNED = VALID_VARIANTS.filter((v) => ['amd64 seed 1', 'i386 --pae seed 1', 'i386 --dumplo 123457', 'aarch64 --dumplo 123457'].includes(v.label));
  for (const v of SPAWNED) {
    it(`${v.label}: every command as a child process`, async (ctx) => {
      if (!MKDUMP_AVAILABLE) return ctx.skip(SKIP_MESSAGE);
      ensureBuilt();
      const g = await image(v);
      const m = g.manifest;
      const problems = [
        ...(await checkMkheader(g, spawnCli)),
        ...(await checkWrtheader(g, spawnCli, scratch)),
        ...(await checkInval(g, spawnCli, scratch)),
        ...(await checkScan(g, spawnCli)),
      ];
      expect(problems).toEqual([]);
      // A few symbol reads, kvatop and nlist through the child, compared with the in-process run.
      for (const name of ['dumpmag', 'version', 'hostname', 'msgbufp']) {
        const s = m.symbols.find((x) => x.name === name)!;
        const argv = ['read', ...dumpArgs(g), '--symbol', name, '--length', String(s.size)];
        const [child, inproc] = [await spawnCli(argv), await cli(argv)];
        expect(child.json, child.stderr).not.toBeNull();
        expect(child.json).toEqual(inproc.json);
        expect(child.json.hex).toBe(s.value_hex);
        expect(child.code).toBe(0);
        const k = await spawnCli(['kvatop', ...dumpArgs(g), '--va', s.va]);
        expect(k.json, k.stderr).not.toBeNull();
        expect([k.json.pa, k.json.offset, k.code]).toEqual([s.pa, s.file_off, 0]);
      }
      const nl = await spawnCli(['nlist', '--kernel', g.kernel, '--json', ...m.nlist_quirk_lists[1]]);
      const inproc = await cli(['nlist', '--kernel', g.kernel, '--json', ...m.nlist_quirk_lists[1]]);
      expect(nl.json).toEqual(inproc.json);
      expect(nl.code).toBe(0);
      // An unmapped read fails with exit 1 and the kvm_read message.
      const bad = await spawnCli(['read', ...dumpArgs(g), '--va', '0', '--length', '8']);
      expect([bad.code, bad.json.result, bad.json.error, bad.json.hex]).toEqual([1, -1, '_kvm_kvatop(0)', '']);
    });
  }
});
