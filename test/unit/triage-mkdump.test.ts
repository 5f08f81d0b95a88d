// Cross-check against the shared generator (mkdump.py --triage): its manifest's "triage" key says
// what savecore's check_kmem and dmesg -M must derive from the dump it wrote. Skipped, with the
// reason in the test name, when ../shared/tools/mkdump is not present.

import { execFileSync } from 'node:child_process';
import { dumpView } from '../../core/kvm/view.ts';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Kvm } from '../../core/kvm.ts';
import { buildTriageReport, readMessageBuffer, readPanicMessage, savecoreSyslogLine } from '../../core/triage/index.ts';
import { FileSource } from '../fixtures/file-source.ts';
import { kvmdump } from '../fixtures/cli.ts';
import { MKDUMP_DIR } from '../conformance/support/mkdump.ts';

const MKDUMP = join(MKDUMP_DIR, 'mkdump.py');
const available = existsSync(MKDUMP);
const root = available ? mkdtempSync(join(tmpdir(), 'kvmdump-triage-mkdump-')) : '';
afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

interface TriageFacts {
  panic_message: string | null;
  panic_message_source: 'msgbuf' | 'panicstr' | null;
  savecore_syslog: string;
  msgbuf_text: string | null;
  msgbuf: { msg_magic: string; msg_bufx: number; msg_bufr: number; msg_bufs: number; msg_bufc_offset: number; wrapped: boolean; bytes_written_since_boot: number };
  version: string;
  ostype: string;
  osrelease: string;
  hostname: string;
  boottime: { tv_sec: number; tv_nsec: number };
  time_second: number;
}

const CASES: { name: string; args: string[] }[] = [
  { name: 'amd64 linear kassert', args: ['--msgbuf', 'linear', '--panic-style', 'kassert'] },
  { name: 'amd64 wrapped trap', args: ['--msgbuf', 'wrapped', '--panic-style', 'trap'] },
  { name: 'amd64 straddle long', args: ['--msgbuf', 'panic-straddles-wrap', '--panic-style', 'long'] },
  { name: 'amd64 index 0', args: ['--msgbuf', 'panic-at-index-0', '--panic-style', 'lockdebug'] },
  { name: 'amd64 no panic', args: ['--no-panic', '--msgbuf', 'wrapped'] },
  { name: 'amd64 bad magic', args: ['--msgbuf', 'wrapped', '--corrupt', 'msgbuf-bad-magic'] },
  { name: 'i386 wrapped long', args: ['--arch', 'i386', '--msgbuf', 'wrapped', '--panic-style', 'long'] },
  { name: 'i386 straddle kassert', args: ['--arch', 'i386', '--msgbuf', 'panic-straddles-wrap', '--panic-style', 'kassert'] },
  { name: 'i386pae index 0', args: ['--arch', 'i386', '--pae', '--msgbuf', 'panic-at-index-0'] },
  { name: 'i386pae bad magic', args: ['--arch', 'i386', '--pae', '--corrupt', 'msgbuf-bad-magic'] },
  { name: 'aarch64 trap straddle', args: ['--arch', 'aarch64', '--msgbuf', 'panic-straddles-wrap', '--panic-style', 'trap'] },
  { name: 'aarch64 no panic linear', args: ['--arch', 'aarch64', '--no-panic', '--msgbuf', 'linear'] },
];

function generate(name: string, args: string[], seed: number): { dir: string; manifest: { dump_off: number; triage: TriageFacts } } {
  const dir = join(root, name.replace(/\W+/g, '-'));
  execFileSync('python3', [MKDUMP, '--out', dir, '--seed', String(seed), '--triage', ...args], { stdio: 'ignore' });
  return { dir, manifest: JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) };
}

describe.skipIf(!available)(`triage vs mkdump.py manifests${available ? '' : ' (skipped: ../shared/tools/mkdump not present)'}`, () => {
  CASES.forEach((c, i) => {
    it(c.name, async () => {
      const { dir, manifest } = generate(c.name, c.args, 11 + i);
      const t = manifest.triage;
      const dump = await FileSource.open(join(dir, 'dump.img'));
      const kernel = await FileSource.open(join(dir, 'netbsd'));
      try {
        const kd = await Kvm.open({ dump, kernel });
        expect(await kd.mkheader(manifest.dump_off)).toBeGreaterThan(0);
        const panic = await readPanicMessage(dumpView(kd));
        expect([panic.message, panic.source]).toEqual([t.panic_message, t.panic_message_source]);
        expect(savecoreSyslogLine(panic)).toBe(t.savecore_syslog);
        const mb = await readMessageBuffer(dumpView(kd));
        if (t.msgbuf_text === null) {
          expect(mb).toEqual({ available: false, reason: `msgbuf magic ${t.msgbuf.msg_magic} != 0x63061` });
        } else {
          expect(mb.available && [mb.text, mb.bufx, mb.bufr, mb.bufs, mb.bufcOffset]).toEqual([t.msgbuf_text, t.msgbuf.msg_bufx, t.msgbuf.msg_bufr, t.msgbuf.msg_bufs, t.msgbuf.msg_bufc_offset]);
          // The dump cannot tell "exactly full" from "wrapped"; mkdump never writes exactly msg_bufs bytes.
          expect(mb.available && mb.wrapped).toBe(t.msgbuf.bytes_written_since_boot >= t.msgbuf.msg_bufs);
        }
        const r = await buildTriageReport(dumpView(kd));
        expect([r.version, r.ostype, r.osrelease, r.hostname]).toEqual([{ value: t.version }, { value: t.ostype }, { value: t.osrelease }, { value: t.hostname }]);
        expect('value' in r.boottime && [r.boottime.value.sec, r.boottime.value.nsec]).toEqual([t.boottime.tv_sec, t.boottime.tv_nsec]);
        expect('value' in r.crashTime && [r.crashTime.value.sec, r.crashTime.value.source]).toEqual([t.time_second, 'time_second']);
        expect(r.versionCheck).toEqual({ value: { match: true, warning: null } });
      } finally {
        await dump.close();
        await kernel.close();
      }
    });
  });

  it('a dump made without --triage (no panicstart/panicstr in its kernel): "not determined", never "none", and the msgbuf\'s panic line', () => {
    const dir = join(root, 'no-triage');
    execFileSync('python3', [MKDUMP, '--out', dir, '--seed', '5'], { stdio: 'ignore' });
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    const files = ['--kernel', join(dir, 'netbsd'), '--dump', join(dir, 'dump.img'), '--dump-offset', String(manifest.dump_off)];
    const dm = kvmdump(['dmesg', ...files]);
    const found = dm.stdout.split('\n').filter((l: string) => /(^|[\s\]])panic: /.test(l)).at(-1);
    const rep = kvmdump(['report', ...files, '--json']);
    expect(rep.code).toBe(0);
    expect(rep.json.panic).toMatchObject({ message: null, verdict: 'undetermined', messageBufferLine: found ?? null });
    const text = kvmdump(['report', ...files]).stdout;
    expect(text).not.toMatch(/^panic: +none/m);
    expect(text).toMatch(/^panic: +not determined \(savecore's derivation could not run: .*not in namelist/m);
    if (found) expect(text).toContain(`in msgbuf:   ${found}  [last "panic:" line found in the message buffer]`);
  });

  it('the CLI agrees: kvmdump report --json and kvmdump dmesg', () => {
    const { dir, manifest } = generate('cli wrapped', ['--msgbuf', 'wrapped', '--panic-style', 'kassert'], 99);
    const files = ['--kernel', join(dir, 'netbsd'), '--dump', join(dir, 'dump.img'), '--dump-offset', String(manifest.dump_off)];
    const rep = kvmdump(['report', ...files, '--json']);
    expect(rep.code).toBe(0);
    expect(rep.json.panic.message).toBe(manifest.triage.panic_message);
    expect(rep.json.panic.savecoreSyslog).toBe(manifest.triage.savecore_syslog);
    const dm = kvmdump(['dmesg', ...files]);
    expect(dm.code).toBe(0);
    const text = manifest.triage.msgbuf_text!;
    expect(dm.stdout).toBe(text.endsWith('\n') ? text : text + '\n');
  });
});
