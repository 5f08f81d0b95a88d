// Smoke of the bench harness (benchmarks themselves are `npm run bench`, not tests): the runner
// runs every figure module, turns a throwing figure into a failed record, writes results.json;
// the input builder yields a valid dump whose free pages carry the realistic mix.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, openSync, readSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const RUN = join(import.meta.dirname, '..', '..', 'bench', 'run.mjs');

describe('bench harness', () => {
  it('runs every figure module and writes the records, a failing figure as pass: false', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvmdump-bench-smoke-'));
    try {
      const figs = join(dir, 'figures');
      mkdirSync(figs);
      writeFileSync(join(figs, 'a.mjs'), "export default async (ctx) => [{ figure: 'a', ours: 1, peer: 2, ratio: 2, target: 1, pass: ctx.runs === 2 }];");
      writeFileSync(join(figs, 'b.mjs'), "export default async () => { throw new Error('no peer'); };");
      const out = join(dir, 'results.json');
      const r = spawnSync(process.execPath, [RUN, '--figures', figs, '--out', out, '--runs', '2', '--work', join(dir, 'w')], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual([
        { figure: 'a', ours: 1, peer: 2, ratio: 2, target: 1, pass: true },
        { figure: 'b', ours: null, peer: null, ratio: null, target: null, pass: false, note: 'failed: no peer' },
      ]);
      expect(r.stdout).toMatch(/\| a \| 1 \| 2 \| 2 \| 1 \| yes \|/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('builds a dump with the realistic page mix from the fixture builder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvmdump-bench-input-'));
    try {
      const { realisticDump } = (await import('../../bench/lib/input.mjs' as string)) as {
        realisticDump(dir: string, memMiB: number): Promise<{ image: string; size: number; memOff: number; headerOff: number }>;
      };
      const d = await realisticDump(dir, 72); // above 64 MiB the fixture tags only every 512th free page
      expect(d.headerOff).toBe(32768);
      const fd = openSync(d.image, 'r');
      const page = Buffer.alloc(4096);
      let zero = 0, total = 0;
      for (let off = d.memOff; off + 4096 <= d.size; off += 4096, total++) {
        readSync(fd, page, 0, 4096, off);
        if (page.every((b) => b === 0)) zero++;
      }
      closeSync(fd);
      expect(zero / total).toBeGreaterThan(0.4);
      expect(zero / total).toBeLessThan(0.6);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
