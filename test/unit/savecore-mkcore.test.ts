// Cross-check with the shared reference tool: mkcore.py's netbsd.N.core for a mkdump.py dump must be
// byte-identical to ours, on each architecture it generates.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSavecore } from '../../main/jobs/savecore/job.ts';
import { sha256 } from './savecore-fixture.ts';
import { MKDUMP_DIR } from '../conformance/support/mkdump.ts';

const TOOLS = MKDUMP_DIR;
const available = existsSync(join(TOOLS, 'mkcore.py')) && existsSync(join(TOOLS, 'mkdump.py'));

describe.skipIf(!available)('savecore vs mkcore.py (skipped: ../shared/tools/mkdump not present)', () => {
  for (const [arch, extra] of [['amd64', ['--triage']], ['i386', []], ['aarch64', ['--triage']]] as const) {
    it(`${arch}: netbsd.N.core byte-identical to mkcore.py's`, async () => {
      const root = mkdtempSync(join(tmpdir(), 'savecore-mkcore-'));
      try {
        const dumpDir = join(root, 'dump');
        const refDir = join(root, 'ref');
        const ourDir = join(root, 'ours');
        mkdirSync(ourDir);
        execFileSync('python3', [join(TOOLS, 'mkdump.py'), '--out', dumpDir, '--arch', arch, '--mem-mib', '40', '--seed', '21', ...extra], { stdio: 'ignore' });
        execFileSync('python3', [join(TOOLS, 'mkcore.py'), '--dump', dumpDir, '--out', refDir, '--bounds', '3'], { stdio: 'ignore' });
        const m = JSON.parse(readFileSync(join(dumpDir, 'manifest.json'), 'utf8'));
        const { writeFileSync } = await import('node:fs');
        writeFileSync(join(ourDir, 'bounds'), '3\n');
        const r = await runSavecore({
          directory: ourDir, device: join(dumpDir, 'dump.img'), kernel: join(dumpDir, 'netbsd'),
          dumpOffset: m.dump_off, now: m.decoded.time_second, keep: true,
        });
        expect([r.status, r.exitCode, r.messages.filter((x) => x.priority === 'err')]).toEqual(['saved', 0, []]);
        const ref = readFileSync(join(refDir, 'netbsd.3.core'));
        const ours = readFileSync(join(ourDir, 'netbsd.3.core'));
        expect(ours.length).toBe(ref.length);
        expect(sha256(ours)).toBe(sha256(ref));
        expect(sha256(readFileSync(join(ourDir, 'netbsd.3')))).toBe(sha256(readFileSync(join(refDir, 'netbsd.3'))));
        expect(readFileSync(join(ourDir, 'bounds'), 'utf8')).toBe(readFileSync(join(refDir, 'bounds'), 'utf8'));
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });
  }
});
