// kvmdump report / kvmdump dmesg through the real CLI (bin/kvmdump.mjs over dist/, built by the
// vitest global setup), on fixture files written to a temporary directory.

import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDumpImage } from '../fixtures/dump-image.ts';
import { kvmdump, writeFixture } from '../fixtures/cli.ts';
import { simulateLog, type ModelResult } from '../fixtures/msgbuf-model.ts';

const PANIC = { format: 'kernel diagnostic assertion "%s" failed', text: 'kernel diagnostic assertion "x != NULL" failed' };
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function fixture(flavour: 'amd64' | 'i386', model: ModelResult, extra = {}) {
  const img = buildDumpImage({ flavour, seed: 21, triage: { ...model.triage, ...extra } });
  const f = await writeFixture(img, `triage-${flavour}`);
  dirs.push(f.dir);
  return { img, args: ['--kernel', f.kernel, '--dump', f.dump, '--dump-offset', String(img.facts.dumpOff)], dump: f.dump };
}

describe('kvmdump report / dmesg', () => {
  let wrapped: ModelResult;
  let good: Awaited<ReturnType<typeof fixture>>;
  beforeAll(async () => {
    wrapped = simulateLog({ flavour: 'i386', runtimeBytes: 45000, panic: PANIC });
    good = await fixture('i386', wrapped);
  });

  it('dmesg prints the buffer in reading order, exactly', () => {
    const r = kvmdump(['dmesg', ...good.args]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const t = wrapped.expect.dmesgText;
    expect(r.stdout).toBe(t.endsWith('\n') ? t : t + '\n');
  });

  it('dmesg --json', () => {
    const r = kvmdump(['dmesg', ...good.args, '--json']);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ available: true, text: wrapped.expect.dmesgText, bufx: wrapped.expect.bufx, bufr: wrapped.expect.bufr, bufs: 32752, bufcOffset: 16, wrapped: true, va: '0xd0000000' });
  });

  it('report: text summary with the panic and the last --lines lines', () => {
    const r = kvmdump(['report', ...good.args, '--lines', '4']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`${good.img.facts.kernelData.strings.hostname} dumped core - see ${good.dump}`);
    expect(lines).toContain(`panic:       ${wrapped.expect.panicMessage}  [from message buffer, panicstart..panicend]`);
    expect(lines).toContain(`savecore:    ${wrapped.expect.syslogLine}`);
    const tail = wrapped.expect.dmesgText.split('\n').filter((l, i, a) => i < a.length - 1 || l !== '').slice(-4);
    expect(r.stdout.endsWith(tail.join('\n') + '\n')).toBe(true);
  });

  it('report --json: one object with the pieces', () => {
    const r = kvmdump(['report', ...good.args, '--json', '--lines', '2']);
    expect(r.code).toBe(0);
    expect(r.json.schema).toBe('kvmdump-triage/1');
    expect(r.json.panic).toEqual({ message: wrapped.expect.panicMessage, source: 'msgbuf', reasons: [], savecoreSyslog: wrapped.expect.syslogLine, verdict: 'panic', messageBufferLine: expect.stringContaining('panic: ') });
    expect(r.json.msgbuf.value.lastLines).toHaveLength(2);
    expect(r.json.dump).toMatchObject({ format: 'dump-device', headerOffset: good.img.facts.dumpOff, memoryOffset: good.img.facts.memOff });
  });

  it('bad magic: dmesg fails with the reason, report falls back to panicstr', async () => {
    const bad = await fixture('amd64', simulateLog({ flavour: 'amd64', runtimeBytes: 100, magic: 0x063062, panic: PANIC }));
    const d = kvmdump(['dmesg', ...bad.args]);
    expect([d.code, d.stdout, d.stderr]).toEqual([1, '', 'kvmdump: dmesg: message buffer not available: msgbuf magic 0x63062 != 0x63061\n']);
    const dj = kvmdump(['dmesg', ...bad.args, '--json']);
    expect([dj.code, dj.json]).toEqual([1, { available: false, reason: 'msgbuf magic 0x63062 != 0x63061' }]);
    const r = kvmdump(['report', ...bad.args, '--json']);
    expect(r.json.panic).toEqual({ message: PANIC.format, source: 'panicstr', reasons: ['msgbuf magic 0x63062 != 0x63061'], savecoreSyslog: `reboot after panic: ${PANIC.format}`, verdict: 'panic', messageBufferLine: null });
    expect(r.json.msgbuf).toEqual({ notAvailable: 'msgbuf magic 0x63062 != 0x63061' });
  });

  it('without --dump-offset on a dump device: usage error; wrong offset: mkheader error', () => {
    const noOff = kvmdump(['report', ...good.args.slice(0, 4)]);
    expect(noOff.code).toBe(1);
    expect(noOff.stderr).toMatch(/not a savecore core file; give --dump-offset/);
    const wrong = kvmdump(['dmesg', ...good.args.slice(0, 4), '--dump-offset', '0']);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toBe('kvmdump: kvm_dump_mkheader: 0 (invalid magic in cpu_hdr): no dump header at offset 0\n');
  });
});

describe('report and dmesg without --kernel', () => {
  it('use the crashed kernel\'s ksyms found in the dump: the panic, the version and the log', async () => {
    const { buildDumpImage } = await import('../fixtures/dump-image.ts');
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { spawnSync } = await import('node:child_process');
    const img = buildDumpImage({ flavour: 'aarch64', seed: 61, triage: { ksyms: {}, panicstr: 'Data Abort at 0xffffc00000001234' } });
    const dir = mkdtempSync(join(tmpdir(), 'kvmdump-triage-noksyms-'));
    try {
      const dump = join(dir, 'dump.img');
      writeFileSync(dump, img.toBytes());
      const bin = join(import.meta.dirname, '../../bin/kvmdump.mjs');
      const report = spawnSync(process.execPath, [bin, 'report', '--dump', dump, '--dump-offset', String(img.facts.dumpOff), '--json'], { encoding: 'utf8' });
      expect(report.status).toBe(0);
      const r = JSON.parse(report.stdout);
      expect(r.panic.message).toBe('Data Abort at 0xffffc00000001234');
      expect(r.version.value).toBe(img.facts.kernelData.strings.version);
      const dmesg = spawnSync(process.execPath, [bin, 'dmesg', '--dump', dump, '--dump-offset', String(img.facts.dumpOff)], { encoding: 'utf8' });
      expect(dmesg.status).toBe(0);
      expect(dmesg.stdout).toContain(`hostname ${img.facts.kernelData.strings.hostname}`);
      // the libkvm commands keep kvm_nlist's contract: no kernel file, no namelist
      const read = spawnSync(process.execPath, [bin, 'nlist', '--json', 'dumpmag'], { encoding: 'utf8' });
      expect(read.status).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // Issue 8 (fidelity): a kernel without panicstart/panicstr is not a dump "taken without a panic".
  it('no panic symbols in the namelist: the derivation could not run, and the panic line found in the ring is shown as such', async () => {
    const model = simulateLog({ flavour: 'i386', runtimeBytes: 45000, panic: PANIC });
    const f = await fixture('i386', model, { omitSymbols: ['panicstart', 'panicend', 'panicstr'] });
    const r = kvmdump(['report', ...f.args, '--json']);
    expect(r.json.panic).toMatchObject({ message: null, verdict: 'undetermined', reasons: expect.arrayContaining([expect.stringMatching(/panicstr not in namelist/)]) });
    expect(r.json.panic.messageBufferLine).toMatch(/panic: kernel diagnostic assertion "x != NULL" failed/);
    const text = kvmdump(['report', ...f.args]).stdout;
    expect(text).toMatch(/panic: +not determined \(savecore's derivation could not run: .*not in namelist.*\)/);
    expect(text).toMatch(/in msgbuf: +.*panic: kernel diagnostic assertion "x != NULL" failed.*\[last "panic:" line found in the message buffer\]/);
    expect(text).not.toMatch(/panic: +none/);
  });
});
