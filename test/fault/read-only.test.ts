// The read-only guarantee (issue 9): on a dump that cannot be written — a read-only bind mount, a
// read-only loop device (root bypasses mode 0444, so those are the real tests) — every operation
// that does not write succeeds and leaves the dump untouched, and inval refuses cleanly.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandlers } from '../../main/app/handlers.ts';
import { buildDumpImage, type DumpImage } from '../fixtures/dump-image.ts';
import { kvmdump } from '../fixtures/cli.ts';
import { writeImageFile } from '../fixtures/write-image.ts';

let root: string;
let img: DumpImage;
let kernel: string;
const targets: { label: string; dump: string; undo: () => void }[] = [];
const unavailable: string[] = [];

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'kvmdump-ro-'));
  img = buildDumpImage({ flavour: 'amd64', seed: 77, triage: { panicstr: 'read-only test panic' } });
  const src = join(root, 'src');
  mkdirSync(src);
  kernel = join(root, 'netbsd');
  writeFileSync(kernel, img.kernel);
  await writeImageFile(img, join(src, 'dump.img'));
  chmodSync(join(src, 'dump.img'), 0o444);

  const ro = join(root, 'ro');
  mkdirSync(ro);
  try {
    execFileSync('mount', ['--bind', src, ro], { stdio: 'pipe' });
    execFileSync('mount', ['-o', 'remount,bind,ro', ro], { stdio: 'pipe' });
    targets.push({ label: 'read-only bind mount', dump: join(ro, 'dump.img'), undo: () => execFileSync('umount', [ro]) });
  } catch (e) {
    unavailable.push(`read-only mount: ${(e as Error).message.split('\n')[0]}`);
  }
  try {
    const loop = execFileSync('losetup', ['-r', '-f', '--show', join(src, 'dump.img')], { stdio: 'pipe' }).toString().trim();
    targets.push({ label: `read-only loop device ${loop}`, dump: loop, undo: () => execFileSync('losetup', ['-d', loop]) });
  } catch (e) {
    unavailable.push(`read-only loop device: ${(e as Error).message.split('\n')[0]}`);
  }
  if (targets.length === 0 && process.env.CI) throw new Error(`no read-only target could be made: ${unavailable.join('; ')}`);
});

afterAll(() => {
  for (const t of targets) {
    try { t.undo(); } catch { /* already gone */ }
  }
  rmSync(root, { recursive: true, force: true });
});

describe('a dump that cannot be written', () => {
  it('every reading command succeeds and the dump is byte-for-byte unchanged; inval refuses', async (ctx) => {
    if (targets.length === 0) {
      ctx.skip();
      return;
    }
    for (const t of targets) {
      const before = sha(t.dump);
      const mtime = statSync(t.dump).mtimeMs;
      const base = ['--kernel', kernel, '--dump', t.dump, '--dump-offset', String(img.facts.dumpOff)];
      const ok = (args: string[]) => {
        const r = kvmdump([...args, '--json']);
        expect(r.code, `${t.label}: ${args[0]} ${r.stdout}${r.stderr}`).toBe(0);
        return r.json;
      };
      expect(ok(['mkheader', ...base]).result).toBe(img.facts.headerSize);
      expect(ok(['read', ...base, '--symbol', 'dumpmag', '--length', '4']).hex).toBe('0101ca8f');
      ok(['kvatop', ...base, '--va', '0x' + img.facts.symbols.dumpmag.va.toString(16)]);
      expect(ok(['scan', '--dump', t.dump]).candidates.map((c: { offset: number }) => c.offset)).toContain(img.facts.dumpOff);
      ok(['report', ...base]);
      ok(['dmesg', ...base]);
      const out = mkdtempSync(join(root, 'crash-'));
      const sc = kvmdump(['savecore', '--keep', '-N', kernel, '--dump-offset', String(img.facts.dumpOff), '--json', out, t.dump]);
      expect(sc.code, sc.stdout + sc.stderr).toBe(0);

      const handlers = createHandlers({ mode: 'serve', userDataDir: join(root, 'config'), allowWrite: true });
      const opened = await handlers.invoke('openDump', { kernelPath: kernel, dumpPath: t.dump, dumpOffset: img.facts.dumpOff });
      if (!opened.ok) throw new Error(opened.error.message);
      expect((await handlers.invoke('triage', { sessionId: opened.value.sessionId })).ok).toBe(true);
      // inval through the app: a clean refusal naming why, nothing written.
      const inval = await handlers.invoke('inval', { sessionId: opened.value.sessionId, confirm: true });
      expect(inval.ok ? inval.value.result : -1).toBe(-1);
      const why = inval.ok ? inval.value.error : inval.error.message;
      expect(why).toMatch(/Read-only file system|read-only|Permission denied|not permitted/i);
      await handlers.shutdown();

      const cli = kvmdump(['inval', ...base, '--yes', '--json']);
      expect(cli.code).toBe(1);
      expect(cli.json.error).toMatch(/Read-only file system|read-only|Permission denied|not permitted/i);

      expect(sha(t.dump), `${t.label} changed`).toBe(before);
      expect(statSync(t.dump).mtimeMs).toBe(mtime);
    }
  }, 120_000);
});
