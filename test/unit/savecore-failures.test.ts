// savecore job, every refusal and failure path: the messages savecore logs, exit 1, bounds, and
// above all that the dump is never invalidated unless a verified archive exists.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  auditLines, expectedCore, isInvalidated, messagesOf, NOW, readImage, run, sha256, writeDump, type DumpOnDisk,
  dumpsRemovedAfterEach,
} from './savecore-fixture.ts';

const dump = dumpsRemovedAfterEach();

/** Patch the dump's copy of a variable (the kernel file keeps its own value). */
function patchSymbol(name: string, value: Uint8Array, at = 0) {
  return (bytes: Uint8Array, img: Parameters<NonNullable<Parameters<typeof writeDump>[1]>>[1]) => {
    bytes.set(value, img.facts.symbols[name].fileOff + at);
  };
}

function intact(d: DumpOnDisk): boolean {
  return sha256(readImage(d)) === sha256(d.original);
}

function savedFiles(d: DumpOnDisk): string[] {
  return readdirSync(d.crashDir).filter((n) => n.startsWith('netbsd.') || n.startsWith('.')).sort();
}

describe('savecore job: no dump', () => {
  it('mkheader 0 (bad magic): "no core dump", exit 1, nothing written', async () => {
    const d = dump({ flavour: 'amd64', seed: 1, corrupt: 'bad-magic' });
    const r = await run(d);
    expect([r.status, r.exitCode]).toEqual(['no-dump', 1]);
    expect(messagesOf(r)).toEqual(['no core dump']);
    expect(existsSync(join(d.crashDir, 'bounds'))).toBe(false);
    expect(auditLines(d).map((l) => l.action)).toEqual(['refusal']);
  });

  it('dumpmag mismatch: -v names both values, then "no core dump"; -f saves anyway', async () => {
    const d = dump({ flavour: 'i386', seed: 1 }, patchSymbol('dumpmag', Uint8Array.of(0x02, 0x01, 0xca, 0x8f)));
    const quiet = await run(d);
    expect([quiet.status, quiet.exitCode]).toEqual(['no-dump', 1]);
    expect(messagesOf(quiet)).toEqual(['no core dump']);
    const verbose = await run(d, { verbose: true });
    expect(messagesOf(verbose)).toEqual(['magic number mismatch (0x8fca0102 != 0x8fca0101)', 'no core dump']);
    expect(existsSync(join(d.crashDir, 'bounds'))).toBe(false);
    const forced = await run(d, { force: true, keep: true });
    expect([forced.status, forced.exitCode]).toEqual(['saved', 0]);
    expect(sha256(readFileSync(join(d.crashDir, 'netbsd.0.core')))).toBe(sha256(expectedCore(d.img, d.original)));
  });

  it('-n: exit 0 with a dump and writes nothing; exit 1 without', async () => {
    const d = dump({ flavour: 'aarch64', seed: 1 });
    const r = await run(d, { testOnly: true });
    expect([r.status, r.exitCode]).toEqual(['dump-present', 0]);
    expect(readdirSync(d.crashDir)).toEqual([]);
    expect(intact(d)).toBe(true);
    await run(d, { clear: true });
    const gone = await run(d, { testOnly: true });
    expect([gone.status, gone.exitCode]).toEqual(['no-dump', 1]);
  });

  it('-c: invalidates without saving (exit 0); still needs a detectable dump', async () => {
    const d = dump({ flavour: 'amd64', seed: 2 });
    const r = await run(d, { clear: true });
    expect([r.status, r.exitCode]).toEqual(['cleared', 0]);
    expect(isInvalidated(d)).toBe(true);
    expect(savedFiles(d)).toEqual([]);
    expect(auditLines(d).map((l) => l.action)).toEqual(['invalidate-intent', 'invalidate']);
    // -c on a device with no header: mkheader 0 → "no core dump", exit 1
    const none = dump({ flavour: 'amd64', seed: 2, corrupt: 'wrong-mid' });
    const r2 = await run(none, { clear: true });
    expect([r2.status, r2.exitCode]).toEqual(['no-dump', 1]);
    expect(intact(none)).toBe(true);
    // -c -n is -n
    const both = dump({ flavour: 'amd64', seed: 3 });
    expect((await run(both, { clear: true, testOnly: true })).status).toBe('dump-present');
    expect(intact(both)).toBe(true);
  });
});

describe('savecore job: checks that refuse', () => {
  it('dump time zero: refused (exit 1) before bounds; -f saves', async () => {
    const d = dump({ flavour: 'amd64', seed: 3, triage: { timeSecond: 0n } });
    const r = await run(d);
    expect([r.status, r.exitCode]).toEqual(['refused', 1]);
    expect(messagesOf(r)).toContain('dump time is zero');
    expect(existsSync(join(d.crashDir, 'bounds'))).toBe(false);
    expect(intact(d)).toBe(true);
    expect((await run(d, { force: true })).status).toBe('saved');
  });

  it('dump time unreasonable (beyond ±60 days of now)', async () => {
    const d = dump({ flavour: 'i386', seed: 3 });
    const r = await run(d, { now: NOW + 61 * 86400 });
    expect(messagesOf(r)).toEqual(expect.arrayContaining(['dump time is unreasonable']));
    expect(messagesOf(r).some((m) => m.startsWith('system went down at '))).toBe(true);
    expect([r.status, r.exitCode]).toEqual(['refused', 1]);
    expect((await run(d, { now: NOW - 59 * 86400 })).status).toBe('saved');
  });

  it('crash time from `time` (struct timeval) when time_second is absent; neither → refused', async () => {
    const old = dump({ flavour: 'i386', seed: 13, triage: { omitSymbols: ['time_second'], timevalSecond: BigInt(NOW - 60) } });
    const r = await run(old, { keep: true });
    expect([r.status, r.crashTime]).toEqual(['saved', NOW - 60]);
    expect(JSON.parse(readFileSync(join(old.crashDir, 'netbsd.0.manifest.json'), 'utf8')).crashTime.source).toBe('time');
    const none = dump({ flavour: 'amd64', seed: 13, triage: { omitSymbols: ['time_second'] } });
    const r2 = await run(none);
    expect([r2.status, r2.exitCode]).toEqual(['refused', 1]);
    expect(messagesOf(r2).some((m) => /^kvm_read: .* \(and _time_second is not defined also\)$/.test(m))).toBe(true);
    expect(intact(none)).toBe(true);
  });

  it('version mismatch is a warning only', async () => {
    const d = dump({ flavour: 'aarch64', seed: 3 }, patchSymbol('version', new TextEncoder().encode('NetBSD 99.9'), 0));
    const r = await run(d, { keep: true });
    const warning = messagesOf(r).find((m) => m.includes('version mismatch'))!;
    expect(warning.startsWith(`warning: ${d.kernel} version mismatch:\n\tNetBSD 10.1 (GENERIC)`)).toBe(true);
    expect(warning).toContain('\nand\tNetBSD 99.9 (GENERIC)');
    expect(r.status).toBe('saved');
    const m = JSON.parse(readFileSync(join(d.crashDir, 'netbsd.0.manifest.json'), 'utf8'));
    expect(m.versionMismatch).toBe(true);
  });

  it('minfree: refused when free space minus the dump would cross it; no file means never', async () => {
    const d = dump({ flavour: 'amd64', seed: 4 });
    writeFileSync(join(d.crashDir, 'minfree'), '2000000000\n'); // KiB; larger values wrap like C's (int)strtol
    const r = await run(d);
    expect([r.status, r.exitCode]).toEqual(['refused', 1]);
    expect(messagesOf(r)).toContain(`no dump, not enough free space in ${d.crashDir}`);
    expect(existsSync(join(d.crashDir, 'bounds'))).toBe(false);
    expect(intact(d)).toBe(true);
    const forced = await run(d, { force: true, keep: true });
    expect(forced.status).toBe('saved');
    writeFileSync(join(d.crashDir, 'minfree'), 'abc\n');
    expect((await run(d)).status).toBe('saved');
  });

  it('a missing required symbol: "<kernel>: _dumpsize not in namelist", exit 1', async () => {
    const d = dump({ flavour: 'amd64', seed: 5, triage: { omitSymbols: ['dumpsize'] } });
    const r = await run(d);
    expect([r.status, r.exitCode]).toEqual(['refused', 1]);
    expect(messagesOf(r)).toEqual([`${d.kernel}: _dumpsize not in namelist`]);
    expect(intact(d)).toBe(true);
  });

  it('missing optional symbols are recorded in the manifest', async () => {
    const d = dump({ flavour: 'i386', seed: 5, triage: { omitSymbols: ['panicstart', 'panicend', 'msgbufp'] } });
    const r = await run(d);
    expect(r.status).toBe('saved');
    const m = JSON.parse(readFileSync(join(d.crashDir, 'netbsd.0.manifest.json'), 'utf8'));
    expect(m.missing.symbols).toEqual(expect.arrayContaining(['panicstart', 'panicend', 'msgbufp', 'ksyms_hdr']));
    expect(m.missing.ksymsReconstruction).toMatch(/no ksyms/);
  });

  it('without -N and no ksyms in the dump: no namelist, refused (savecore without ksyms)', async () => {
    const d = dump({ flavour: 'amd64', seed: 6 });
    const r = await run(d, { kernel: null });
    expect([r.status, r.exitCode]).toEqual(['refused', 1]);
    expect(messagesOf(r)).toEqual([
      '(null): kvm_nlist: bad namelist', '(null): _dumpsize not in namelist',
      'no kernel file given, and no ksyms table named "netbsd" in the dump\'s memory: give -N <kernel>',
    ]);
    expect(intact(d)).toBe(true);
  });

  it('a savecore core file as DEVICE: kvm_dump_mkheader refuses it', async () => {
    const d = dump({ flavour: 'amd64', seed: 6 });
    await run(d, { keep: true });
    const r = await run({ ...d, device: join(d.crashDir, 'netbsd.0.core') }, { dumpOffset: 0 });
    expect(messagesOf(r)).toEqual([`${d.kernel}: kvm_dump_mkheader: already has a dump header`]);
    expect(r.exitCode).toBe(1);
  });

  it('directory missing: statfs error, exit 1', async () => {
    const d = dump({ flavour: 'amd64', seed: 6 });
    const r = await run({ ...d, crashDir: join(d.root, 'nope') });
    expect(messagesOf(r)).toContain(`${join(d.root, 'nope')}: No such file or directory`);
    expect(r.exitCode).toBe(1);
  });
});

describe('savecore job: failures while saving', () => {
  it('verification mismatch: refusal, exit 1, no netbsd.N.core, dump intact', async () => {
    const d = dump({ flavour: 'amd64', seed: 7 });
    const r = await run(d, {}, {
      hooks: {
        beforeVerify: (temp) => {
          const b = readFileSync(temp);
          b[b.length - 5] ^= 0xff;
          writeFileSync(temp, b);
        },
      },
    });
    expect([r.status, r.exitCode]).toEqual(['refused', 1]);
    expect(messagesOf(r).join('\n')).toMatch(/verification of the core failed: memory data SHA-256 .* differs/);
    expect(messagesOf(r).join('\n')).toMatch(/NOT invalidated/);
    expect(savedFiles(d)).toEqual([]);
    expect(intact(d)).toBe(true);
    expect(auditLines(d).map((l) => [l.action, l.ok ?? null])).toEqual([['verify', false], ['refusal', null]]);
    expect(readFileSync(join(d.crashDir, 'bounds'), 'utf8')).toBe('1\n');
  });

  it('verification mismatch with -z (a corrupt gzip member)', async () => {
    const d = dump({ flavour: 'i386', seed: 7 });
    const r = await run(d, { compress: true }, {
      hooks: {
        beforeVerify: (temp) => {
          const b = readFileSync(temp);
          b[Math.floor(b.length / 2)] ^= 0x55;
          writeFileSync(temp, b);
        },
      },
    });
    expect([r.status, r.exitCode]).toEqual(['refused', 1]);
    expect(messagesOf(r).join('\n')).toMatch(/verification of the core failed: file SHA-256 differs from the bytes written/);
    expect(savedFiles(d)).toEqual([]);
    expect(intact(d)).toBe(true);
  });

  it('verification mismatch with -z: a truncated archive', async () => {
    const d = dump({ flavour: 'amd64', seed: 7 });
    const r = await run(d, { compress: true }, {
      hooks: { beforeVerify: (temp) => writeFileSync(temp, readFileSync(temp).subarray(0, -8)) },
    });
    expect([r.status, r.exitCode]).toEqual(['refused', 1]);
    expect(messagesOf(r).join('\n')).toMatch(/verification of the core failed: file SHA-256 differs/);
    expect(savedFiles(d)).toEqual([]);
    expect(intact(d)).toBe(true);
  });

  it('verification mismatch with -z: a member that does not inflate to its chunk (checked on its worker)', async () => {
    const d = dump({ flavour: 'amd64', seed: 7 });
    const r = await run(d, { compress: true, gzipChunkSize: 1 << 20 }, { hooks: { tamperMember: (n) => (n === 1 ? 'flip' : undefined) } });
    expect([r.status, r.exitCode]).toEqual(['refused', 1]);
    expect(messagesOf(r).join('\n')).toMatch(/verification of the core failed: gzip member 1 \(uncompressed bytes 1048576-2097152\)/);
    expect(messagesOf(r).join('\n')).toMatch(/NOT invalidated/);
    expect(savedFiles(d)).toEqual([]);
    expect(intact(d)).toBe(true);
  });

  it('cancel mid-copy: nothing half-written, bounds not reused, dump intact', async () => {
    const d = dump({ flavour: 'amd64', seed: 8, memMiB: 32 });
    const ac = new AbortController();
    const r = await run(d, { blockSize: 1 << 20 }, { signal: ac.signal, hooks: { onBlockCopied: (done) => done >= 8 << 20 && ac.abort() } });
    expect([r.status, r.exitCode]).toEqual(['cancelled', 1]);
    expect(savedFiles(d)).toEqual([]);
    expect(intact(d)).toBe(true);
    expect(auditLines(d).map((l) => l.action)).toEqual(['cancel']);
    const next = await run(d);
    expect([next.status, next.bounds]).toEqual(['saved', 1]);
  });

  it('cancel during -z compression', async () => {
    const d = dump({ flavour: 'aarch64', seed: 8, memMiB: 32 });
    const ac = new AbortController();
    const r = await run(d, { compress: true }, { signal: ac.signal, hooks: { onBlockCopied: (done) => done >= 12 << 20 && ac.abort() } });
    expect(r.status).toBe('cancelled');
    expect(savedFiles(d)).toEqual([]);
    expect(intact(d)).toBe(true);
  });

  it('an AbortSignal already aborted stops before anything is written', async () => {
    const d = dump({ flavour: 'amd64', seed: 9 });
    const r = await run(d, { dumpOffset: undefined }, { signal: AbortSignal.abort() });
    expect(r.status).toBe('cancelled');
    expect(existsSync(join(d.crashDir, 'bounds'))).toBe(false);
  });

  it('ENOSPC on a full tmpfs: clean error, partial removed, not invalidated, bounds not reused', async (ctx) => {
    const d = dump({ flavour: 'amd64', seed: 10 });
    const small = join(d.root, 'small');
    mkdirSync(small);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', small], { stdio: 'ignore' });
    } catch {
      ctx.skip('cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN)');
    }
    try {
      const r = await run({ ...d, crashDir: small });
      expect([r.status, r.exitCode]).toEqual(['failed', 1]);
      expect(messagesOf(r)).toEqual(expect.arrayContaining([
        `${join(small, 'netbsd.0.core')}: No space left on device`, 'WARNING: core may be incomplete',
      ]));
      expect(readdirSync(small).sort()).toEqual(['bounds', 'kvmdump-audit.log']);
      expect(readFileSync(join(small, 'bounds'), 'utf8')).toBe('1\n');
      expect(intact(d)).toBe(true);
      const again = await run({ ...d, crashDir: small });
      expect(again.bounds).toBe(1);
      expect(readdirSync(small).sort()).toEqual(['bounds', 'kvmdump-audit.log']);
      expect(intact(d)).toBe(true);
    } finally {
      execFileSync('umount', [small]);
    }
  });

  it('/dev/full as the sink: the parallel gzip writer surfaces ENOSPC cleanly', async () => {
    const { open } = await import('node:fs/promises');
    const { GzipPool, ParallelGzipWriter } = await import('../../main/jobs/savecore/compress.ts');
    const fh = await open('/dev/full', 'w');
    const pool = new GzipPool(1, 2);
    try {
      const out = { write: async (c: Uint8Array) => void (await fh.write(c)) };
      const gz = new ParallelGzipWriter(pool, out, 1 << 16);
      const err = await (async () => {
        for (let i = 0; i < 64; i++) await gz.write(new Uint8Array(1 << 16).fill(i));
        await gz.end();
      })().catch((e) => e);
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      await pool.close();
      await fh.close();
    }
  });

  it('/dev/full as the sink: the file writer reports savecore\'s "<path>: No space left on device"', async () => {
    const { open } = await import('node:fs/promises');
    const { DurableFile, WriteError } = await import('../../main/jobs/savecore/writer.ts');
    const fh = await open('/dev/full', 'w');
    const f = DurableFile.fromHandle(fh, '/crash/netbsd.3.core', '/nonexistent/.netbsd.3.core.partial-1');
    const err = await f.write(new Uint8Array(1 << 20)).catch((e) => e);
    expect(err).toBeInstanceOf(WriteError);
    expect((err as Error).message).toBe('/crash/netbsd.3.core: No space left on device');
    await f.abort();
  });
});
