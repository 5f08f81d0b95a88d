// The project's test command: build the Node side, typecheck, run every vitest suite (unit,
// conformance, app, end-to-end) and end with the one line CI reads: "N passed, N failed".
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { stdio: 'inherit', shell: false, ...opts });
const npmBin = process.platform === 'win32' ? 'npm.cmd' : 'npm';

const steps = [
  ['build', [npmBin, ['run', 'build']]],
  ['typecheck core (no Node, no DOM)', ['npx', ['tsc', '-p', 'tsconfig.core.json']]],
  ['typecheck main, electron, renderer', [npmBin, ['run', 'typecheck']]],
  ['typecheck tests', ['npx', ['tsc', '-p', 'tsconfig.json']]],
  ['lint (layering rules)', [npmBin, ['run', 'lint']]],
];
let setupFailed = 0;
for (const [name, [cmd, args]] of steps) {
  console.log(`\n== ${name}`);
  const r = run(cmd, args);
  if (r.status !== 0) {
    console.error(`== ${name} failed (exit ${r.status})`);
    setupFailed++;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'kvmdump-test-'));
const report = join(dir, 'vitest.json');
console.log('\n== vitest');
const extra = process.argv.slice(2);
const vt = run('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...extra]);
let passed = 0;
let failed = setupFailed;
let skipped = 0;
try {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed = r.numPassedTests;
  // Failed tests, plus files that failed without a failing test (they did not load or a hook threw).
  // numFailedTestSuites would count every describe block around a failed test again.
  const brokenFiles = (r.testResults ?? []).filter((f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed')).length;
  failed += r.numFailedTests + brokenFiles;
  skipped = r.numPendingTests + (r.numTodoTests ?? 0);
} catch {
  failed += 1; // no report: the runner itself failed
}
rmSync(dir, { recursive: true, force: true });
if (vt.status !== 0 && failed === 0) failed = 1;
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
