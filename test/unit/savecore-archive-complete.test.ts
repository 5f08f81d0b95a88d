// Issue 9 item 4: the dump is invalidated only when the whole archive (core, kernel, report,
// manifest, bounds) is on disk and read back, and the core holds the whole dump. A disk that fills
// up exactly at the manifest, or a header that describes no memory, leaves the dump valid, exits
// non-zero and names what failed.

import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { auditLines, isInvalidated, run, dumpsRemovedAfterEach, type DumpOnDisk } from './savecore-fixture.ts';
import { incompleteArchive } from '../../main/jobs/savecore/job.ts';

const dump = dumpsRemovedAfterEach();
const PAGE = 4096;
const mounts: string[] = [];
afterEach(() => {
  while (mounts.length) {
    const m = mounts.pop()!;
    try { execFileSync('umount', [m]); } catch { /* already gone */ }
  }
});

/** A real tmpfs of `bytes` at dir, or the reason it cannot be had here. */
function mountTmpfs(dir: string, bytes: number): string | null {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { stdio: 'pipe' });
    mounts.push(dir);
    return null;
  } catch (e) {
    return (e as Error).message.split('\n')[0];
  }
}

const pages = (n: number) => Math.ceil(n / PAGE);

/** Pages each archive file took in a run that had room (tmpfs charges whole pages). */
function pagesPerFile(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of readdirSync(dir)) out[name] = pages(statSync(join(dir, name)).size);
  return out;
}

describe('invalidation requires a complete archive', () => {
  it('a disk that fills up exactly at the manifest: dump stays valid, exit 1, the manifest named', async (ctx) => {
    const probe = dump({ flavour: 'amd64', seed: 4 });
    const roomy = await run(probe, { keep: true });
    expect(roomy.status).toBe('saved');
    const used = pagesPerFile(probe.crashDir);
    const manifestPages = used['netbsd.0.manifest.json'];
    expect(manifestPages).toBeGreaterThan(1);
    const withoutManifest = Object.entries(used).filter(([n]) => n !== 'netbsd.0.manifest.json').reduce((n, [, p]) => n + p, 0);

    const d = dump({ flavour: 'amd64', seed: 4 });
    rmSync(d.crashDir, { recursive: true });
    // Room for everything but the manifest: one page more (the bounds lock's, free again by then),
    // which the manifest's pages cannot fit in.
    const why = mountTmpfs(d.crashDir, (withoutManifest + 1) * PAGE + 64 * 1024);
    if (why) {
      if (process.env.CI) throw new Error(`cannot mount a tmpfs for the full-disk test: ${why}`);
      ctx.skip();
      return;
    }
    // Fill the 64 KiB slack so that the disk is full at the manifest.
    writeFileSync(join(d.crashDir, '.filler'), new Uint8Array(64 * 1024));
    const r = await run(d, { keep: false });
    expect(r.exitCode).toBe(1);
    expect(isInvalidated(d)).toBe(false);
    const problem = r.messages.find((m) => m.priority === 'err' && m.message.includes('NOT invalidated'));
    expect(problem?.message).toMatch(/netbsd\.0\.manifest\.json: No space left on device/);
    expect(r.invalidation?.status).not.toBe('invalidated');
  });

  it('a header with no memory segments and -f: the 536-byte core is not an archive of the dump', async () => {
    const d: DumpOnDisk = dump({ flavour: 'amd64', seed: 5, corrupt: 'zero-segments' });
    const r = await run(d, { force: true, keep: false });
    expect(r.exitCode).toBe(1);
    expect(isInvalidated(d)).toBe(false);
    expect(r.invalidation?.status).not.toBe('invalidated');
    expect(auditLines(d).map((l) => l.action)).not.toContain('invalidate');
  });

  it('the rule itself', () => {
    const ok = { dumpbytes: 8192, memoryLength: 8192, segmentBytes: 4096, failures: [null, null] };
    expect(incompleteArchive(ok)).toBeNull();
    expect(incompleteArchive({ ...ok, failures: ['m.json: No space left on device'] })).toMatch(/not written: m.json/);
    expect(incompleteArchive({ ...ok, segmentBytes: 0 })).toMatch(/describes no memory/);
    expect(incompleteArchive({ ...ok, dumpbytes: -4096, memoryLength: 0 })).toMatch(/dump size is -4096/);
    expect(incompleteArchive({ ...ok, memoryLength: 4096 })).toMatch(/core holds 4096 bytes/);
  });
});
