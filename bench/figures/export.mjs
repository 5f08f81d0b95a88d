// Export: `kvmdump savecore --keep` (hash, write, fsync, read-back verification) vs dd and dc3dd,
// and `-z` at levels 1 and 6 vs pigz on both cores (compression alone), gzip reported alongside.
// Every output directory is emptied before each run: savecore never replaces an existing file.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { alternate, BIN, record } from '../lib/measure.mjs';
import { realisticDump } from '../lib/input.mjs';

export default async function run(ctx) {
  const d = await realisticDump(ctx.workDir, ctx.memMiB, ctx.log);
  const out = join(ctx.workDir, 'out');
  const fresh = () => { rmSync(out, { recursive: true, force: true }); mkdirSync(out); };
  const savecore = (...flags) => [process.execPath, BIN, 'savecore', '--keep', '-f', '-N', d.kernel, '--dump-offset', String(d.headerOff), ...flags, out, d.image];
  const records = [];

  const raw = alternate([
    { name: 'ours', cmd: savecore(), before: fresh },
    { name: 'dd', cmd: `dd if='${d.image}' of='${out}/dd.img' bs=1M conv=fsync status=none`, before: fresh },
    { name: 'dc3dd', cmd: `dc3dd if='${d.image}' hof='${out}/dc3dd.img' hash=sha256 log=/dev/null >/dev/null 2>&1`, before: fresh },
  ], ctx.runs);
  records.push(record('raw export vs dd', raw.ours, raw.dd, 1.0), record('raw export vs dc3dd', raw.ours, raw.dc3dd, 2.0));

  for (const [level, target] of [[1, 0.5], [6, 0.7]]) {
    const t = alternate([
      { name: 'ours', cmd: savecore('-z', '-Z', String(level)), before: fresh },
      { name: 'pigz', cmd: `pigz -${level} -p 2 -c '${d.image}' > '${out}/p.gz' && sync`, before: fresh },
      { name: 'gzip', cmd: `gzip -${level} -c '${d.image}' > '${out}/g.gz' && sync`, before: fresh },
    ], ctx.runs);
    // the archive must be valid gzip
    fresh();
    spawnSync(savecore('-z', '-Z', String(level))[0], savecore('-z', '-Z', String(level)).slice(1), { stdio: 'ignore' });
    const core = readdirSync(out).find((f) => f.endsWith('.core.gz'));
    const ok = core !== undefined && spawnSync('gunzip', ['-t', join(out, core)]).status === 0;
    records.push(
      { ...record(`compressed export -Z ${level} vs pigz`, t.ours, t.pigz, target), note: ok ? 'gunzip -t ok' : 'gunzip -t FAILED' },
      { ...record(`compressed export -Z ${level} vs gzip`, t.ours, t.gzip, null), pass: ok, note: 'reported, no target' },
    );
    if (!ok) records.at(-2).pass = false;
  }
  rmSync(out, { recursive: true, force: true });
  return records;
}
