// `npm run fuzz`: the long fuzz campaign. Every target in test/fuzz runs FUZZ_RUNS cases (default
// 12,500 each, over 100,000 in all) from a fixed seed, each case bounded in time; the figures go to
// fuzz-results.json and a table on stdout (docs/reliability.md keeps the latest).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const report = join(root, 'fuzz-results.jsonl');
rmSync(report, { force: true });
const env = {
  ...process.env,
  FUZZ_RUNS: process.env.FUZZ_RUNS ?? '12500',
  FUZZ_SEED: process.env.FUZZ_SEED ?? '20261204',
  FUZZ_REPORT: report,
};
const started = Date.now();
const r = spawnSync('npx', ['vitest', 'run', 'test/fuzz', '--testTimeout=7200000', '--hookTimeout=600000'], { cwd: root, env, stdio: 'inherit' });
const rows = existsSync(report) ? readFileSync(report, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
const total = rows.reduce((n, x) => n + x.cases, 0);
const summary = { date: new Date().toISOString(), seconds: Math.round((Date.now() - started) / 1000), seed: Number(env.FUZZ_SEED), totalCases: total, exit: r.status, targets: rows };
writeFileSync(join(root, 'fuzz-results.json'), JSON.stringify(summary, null, 2) + '\n');
console.log('\ntarget'.padEnd(40), 'cases'.padStart(8), 'slowest ms'.padStart(11), 'heap MiB'.padStart(9));
for (const x of rows) console.log(x.target.padEnd(39), String(x.cases).padStart(8), String(x.slowestCaseMs).padStart(11), String(x.heapHighWaterMiB).padStart(9));
console.log(`${total} cases in ${summary.seconds} s, ${r.status === 0 ? '0 failures' : 'FAILURES (see above)'}`);
process.exit(r.status ?? 1);
