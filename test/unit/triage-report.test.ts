// The triage report: every piece from the dump or a reason, never an exception; the text summary
// checked in full. Expectations come from the fixture's inputs and the independent msgbuf model.

import { describe, expect, it } from 'vitest';
import { dumpView } from '../../core/kvm/view.ts';
import { Kvm } from '../../core/kvm.ts';
import { MemorySource } from '../../core/source.ts';
import { buildTriageReport, formatReportText, versionMismatch, type TriageReport } from '../../core/triage/index.ts';
import { buildDumpImage } from '../fixtures/dump-image.ts';
import { DEFAULT_TIME_SECOND } from '../fixtures/kernel-data.ts';
import { LAYOUTS } from '../fixtures/kernel-layout.ts';
import { LogRing, longSizeOf, ringSizeOf, simulateLog } from '../fixtures/msgbuf-model.ts';
import { FLAVOURS, openFixture } from './triage-helpers.ts';

const PANIC = { format: 'trap', before: ['fatal page fault in supervisor mode', 'trap type 6 code 0'] };
const BOOT = Number(DEFAULT_TIME_SECOND) - 86400 * 3 - 1234; // kernel-data.ts's default boottime
const CRASH = Number(DEFAULT_TIME_SECOND);

function tail(text: string, n: number): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.slice(-n);
}

describe('buildTriageReport', () => {
  for (const flavour of FLAVOURS) {
    it(`${flavour}: a wrapped log with a panic, every piece`, async () => {
      const model = simulateLog({ flavour, runtimeBytes: 50000, panic: PANIC });
      const { kd, img } = await openFixture(flavour, model.triage);
      const r = await buildTriageReport(dumpView(kd), { lines: 5, dumpOffset: img.facts.dumpOff, dumpName: 'dump.img' });
      const s = img.facts.kernelData.strings;
      const memBytes = img.facts.segments.reduce((n, x) => n + Number(x.size), 0);
      expect(r.version).toEqual({ value: s.version });
      expect(r.ostype).toEqual({ value: 'NetBSD' });
      expect(r.osrelease).toEqual({ value: '10.1' });
      expect(r.hostname).toEqual({ value: s.hostname });
      expect(r.kernelFileVersion).toEqual({ value: s.version });
      expect(r.versionCheck).toEqual({ value: { match: true, warning: null } });
      expect(r.boottime).toEqual({ value: { sec: BOOT, nsec: 123456789, iso: new Date(BOOT * 1000 + 123).toISOString() } });
      expect(r.crashTime).toEqual({ value: { sec: CRASH, nsec: null, iso: new Date(CRASH * 1000).toISOString(), source: 'time_second' } });
      expect(r.uptime).toEqual({ value: { seconds: 86400 * 3 + 1234, text: '3d 0h 20m 34s' } });
      expect(r.panic).toEqual({
        message: model.expect.panicMessage, source: 'msgbuf', reasons: [], savecoreSyslog: model.expect.syslogLine,
        verdict: 'panic', messageBufferLine: expect.stringContaining('panic: '),
      });
      expect(r.msgbuf).toEqual({
        value: {
          va: '0x' + LAYOUTS[flavour].msgbufVa.toString(16), magic: '0x63061', bufx: model.expect.bufx, bufr: model.expect.bufr,
          bufs: ringSizeOf(flavour), bufcOffset: 4 * longSizeOf(flavour), wrapped: true, textLength: model.expect.dmesgText.length,
          lineCount: tail(model.expect.dmesgText, 1e9).length, lastLines: tail(model.expect.dmesgText, 5),
        },
      });
      expect(r.physicalMemory).toEqual({ value: { bytes: memBytes, segments: img.facts.segments.map((x) => ({ start: '0x' + x.start.toString(16), size: '0x' + x.size.toString(16) })) } });
      expect('value' in r.machine && r.machine.value.name).toBe(flavour);
      expect(r.dump).toEqual({ name: 'dump.img', format: 'dump-device', headerOffset: img.facts.dumpOff, memoryOffset: img.facts.memOff, cpuDataSize: img.facts.cpuData.length });
      expect(JSON.parse(JSON.stringify(r))).toEqual(r); // plain JSON: no bigint, no undefined
    });
  }

  it('amd64: the text summary, in full', async () => {
    const model = simulateLog({ flavour: 'amd64', runtimeBytes: 3000, panic: PANIC });
    const { kd, img } = await openFixture('amd64', model.triage);
    const r = await buildTriageReport(dumpView(kd), { lines: 3, dumpName: 'dump.img' });
    const s = img.facts.kernelData.strings;
    const [v1, v2] = s.version.replace(/\n$/, '').split('\n');
    const bytes = img.facts.segments.reduce((n, x) => n + Number(x.size), 0);
    const mem = bytes % 1048576 === 0 ? `${bytes / 1048576} MiB` : `${bytes} bytes (${(bytes / 1048576).toFixed(1)} MiB)`;
    const lines = tail(model.expect.dmesgText, 1e9);
    expect(formatReportText(r)).toBe([
      `${s.hostname} dumped core - see dump.img`,
      '',
      `crash time:  ${ctime(CRASH)} (time_second ${CRASH})`,
      `boot time:   ${ctime(BOOT)} (${BOOT})`,
      'uptime:      3d 0h 20m 34s',
      `version:     ${v1}`,
      `             ${v2.replace(/^\t/, '')}`,
      `machine:     amd64, ${mem} physical memory in ${img.facts.segments.length} segments`,
      '',
      `panic:       ${model.expect.panicMessage}  [from message buffer, panicstart..panicend]`,
      `savecore:    ${model.expect.syslogLine}`,
      '',
      '-'.repeat(72),
      `message buffer: last 3 of ${lines.length} lines (32736-byte ring)`,
      '',
      ...lines.slice(-3),
      '',
    ].join('\n'));
  });

  it('i386: the text summary of a wrapped ring whose panic line straddles the ring end, in full', async () => {
    // ILP32: msg_bufs = 8 * 4096 - 4 * 4 = 32752. 1023 filler lines of exactly 32 bytes fill
    // [0, 32736); the 129-byte panic line starts 16 bytes before the end (panicstart 32736) and
    // wraps to index 0 (panicend 129 - 16 = 113); 40 + 20 more bytes leave msg_bufx at 173.
    const log = new LogRing(32752);
    for (let i = 0; i < 1023; i++) log.write(`[  100.000000] filler line ${String(i).padStart(4, '0')}\n`);
    expect(log.bufx).toBe(32736);
    log.write('[  100.500000] panic: kernel diagnostic assertion "l->l_stat == LSONPROC" failed: file "../../../../kern/kern_synch.c", line 812\n');
    expect(log.bufx).toBe(113);
    log.write('[  100.500000] cpu0: Begin traceback...\n');
    log.write('[  100.500000] dump '); // dumpsys() was still writing: no newline
    expect(log.bufx).toBe(173);
    const { kd } = await openFixture('i386', {
      msgbuf: { contents: log.ring, bufx: log.bufx, bufr: log.bufr },
      panicstr: 'kernel %sassertion "%s" failed: file "%s", line %d',
      panicstart: 32736,
      panicend: 113,
      hostname: 'oldbox.example.net',
      version: 'NetBSD 9.3 (GENERIC) #0: Thu Aug  4 15:30:37 UTC 2022\n\tmkrepro@mkrepro.NetBSD.org:/usr/src/sys/arch/i386/compile/GENERIC\n',
      timeSecond: 1700000000n,
      boottime: 1699990000n,
    }, 3);
    const r = await buildTriageReport(dumpView(kd), { lines: 4, dumpName: '/dev/rwd0b' });
    // The ring keeps the last 32752 of 32905 bytes written: reading starts at history[173], inside
    // filler line 5 (173 = 5 * 32 + 13, i.e. at its "]"), so lines 5..1022 (1018, the first cut),
    // the panic line, the traceback and the unterminated "dump " make 1021.
    // RAM: 0x9f000 + 0xf00000 = 16379904 bytes = 15.62 MiB. Uptime 10000 s = 2h 46m 40s.
    expect(formatReportText(r)).toBe([
      'oldbox.example.net dumped core - see /dev/rwd0b',
      '',
      'crash time:  Tue Nov 14 22:13:20 2023 UTC (time_second 1700000000)',
      'boot time:   Tue Nov 14 19:26:40 2023 UTC (1699990000)',
      'uptime:      0d 2h 46m 40s',
      'version:     NetBSD 9.3 (GENERIC) #0: Thu Aug  4 15:30:37 UTC 2022',
      '             mkrepro@mkrepro.NetBSD.org:/usr/src/sys/arch/i386/compile/GENERIC',
      'machine:     i386, 16379904 bytes (15.6 MiB) physical memory in 2 segments',
      '',
      'panic:       [  100.500000] panic: kernel diagnostic assertion "l->l_stat == LSONPROC" failed: file "../../../../kern/kern_synch.c", line 812  [from message buffer, panicstart..panicend]',
      'savecore:    reboot after panic: [  100.500000] panic: kernel diagnostic assertion "l->l_stat == LSONPROC" failed: file "../../../../kern/kern_synch.c", line 812',
      '',
      '-'.repeat(72),
      'message buffer: last 4 of 1021 lines (32752-byte ring, wrapped)',
      '',
      '[  100.000000] filler line 1022',
      '[  100.500000] panic: kernel diagnostic assertion "l->l_stat == LSONPROC" failed: file "../../../../kern/kern_synch.c", line 812',
      '[  100.500000] cpu0: Begin traceback...',
      '[  100.500000] dump ',
      '',
    ].join('\n'));
    // The oldest line is the cut one, as dmesg shows it.
    const all = await buildTriageReport(dumpView(kd), { lines: 1021 });
    expect('value' in all.msgbuf && all.msgbuf.value.lastLines.slice(0, 2)).toEqual(['] filler line 0005', '[  100.000000] filler line 0006']);
    expect('value' in all.msgbuf && all.msgbuf.value.textLength).toBe(32752);
  });

  it('aarch64: the text summary of a dump with no panic, in full', async () => {
    // A dump taken without a panic (reboot -d): panicstr NULL, panicstart = panicend = 0, so
    // savecore's message-buffer path and its panicstr fallback both give up; the report says why.
    const logText = [
      '[     1.0000000] NetBSD 10.1 (GENERIC64) #0',
      '[     1.0000000] total memory = 18 MB',
      '[     3.2500000] ld0 at sdmmc0: <0x03:0x5344:SU08G:0x80:0x1cda770b:0x0ec>',
      '[ 90060.5000000] syncing disks... done',
      '[ 90061.0000000] dumping to dev 179,1 (offset=8, size=4608):',
      '[ 90061.0000000] dump succeeded',
    ].map((l) => l + '\n').join('');
    const contents = new TextEncoder().encode(logText);
    const { kd } = await openFixture('aarch64', {
      msgbuf: { contents, bufx: contents.length, bufr: 0 },
      panicstr: null,
      panicstart: 0,
      panicend: 0,
      hostname: 'rpi4.example.com',
      version: 'NetBSD 10.1 (GENERIC64) #0: Mon Dec 16 13:08:11 UTC 2024\n\tmkrepro@mkrepro.NetBSD.org:/usr/src/sys/arch/evbarm/compile/GENERIC64\n',
      timeSecond: 1767225600n, // 2026-01-01T00:00:00Z
      boottime: 1767135539n, // 90061 s (1d 1h 1m 1s) earlier
    }, 5);
    const r = await buildTriageReport(dumpView(kd), { lines: 4, dumpName: 'netbsd.3.core' });
    expect(r.panic).toEqual({
      message: null, source: null, savecoreSyslog: 'reboot', verdict: 'no-panic', messageBufferLine: null,
      reasons: ['panicstart 0, panicend 0: not both non-zero', 'panicstr is NULL: no panic'],
    });
    // RAM: 16 MiB at 1 GiB and 2 MiB at 32 GiB. The ring: 8 * 4096 - 4 * 8 = 32736 bytes, unwrapped.
    expect(formatReportText(r)).toBe([
      'rpi4.example.com dumped core - see netbsd.3.core',
      '',
      'crash time:  Thu Jan  1 00:00:00 2026 UTC (time_second 1767225600)',
      'boot time:   Tue Dec 30 22:58:59 2025 UTC (1767135539)',
      'uptime:      1d 1h 1m 1s',
      'version:     NetBSD 10.1 (GENERIC64) #0: Mon Dec 16 13:08:11 UTC 2024',
      '             mkrepro@mkrepro.NetBSD.org:/usr/src/sys/arch/evbarm/compile/GENERIC64',
      'machine:     aarch64, 18 MiB physical memory in 2 segments',
      '',
      'panic:       none (panicstr is NULL: the kernel did not panic)',
      'savecore:    reboot',
      '  note:      panicstart 0, panicend 0: not both non-zero',
      '  note:      panicstr is NULL: no panic',
      '',
      '-'.repeat(72),
      'message buffer: last 4 of 6 lines (32736-byte ring)',
      '',
      '[     3.2500000] ld0 at sdmmc0: <0x03:0x5344:SU08G:0x80:0x1cda770b:0x0ec>',
      '[ 90060.5000000] syncing disks... done',
      '[ 90061.0000000] dumping to dev 179,1 (offset=8, size=4608):',
      '[ 90061.0000000] dump succeeded',
      '',
    ].join('\n'));
  });

  for (const flavour of FLAVOURS) {
    it(`${flavour}: missing symbols and an unmapped msgbuf give reasons, not exceptions`, async () => {
      const model = simulateLog({ flavour, runtimeBytes: 500, panic: PANIC });
      const triage = { ...model.triage, omitSymbols: ['version', 'time_second', 'boottime', 'hostname'], unmapMsgbufPages: [2] };
      const { kd } = await openFixture(flavour, triage);
      const r = await buildTriageReport(dumpView(kd));
      expect(r.version).toEqual({ notAvailable: 'symbol version not in namelist' });
      expect(r.hostname).toEqual({ notAvailable: 'symbol hostname not in namelist' });
      expect(r.kernelFileVersion).toEqual({ notAvailable: 'symbol version not in namelist' });
      expect(r.versionCheck).toEqual({ notAvailable: 'kernel file version: symbol version not in namelist' });
      expect(r.boottime).toEqual({ notAvailable: 'symbol boottime not in namelist' });
      expect(r.crashTime).toEqual({ notAvailable: 'symbol time_second not in namelist (and time: symbol time not in namelist)' });
      expect(r.uptime).toEqual({ notAvailable: 'boottime: symbol boottime not in namelist' });
      expect(r.panic.message).toBe('trap');
      expect(r.panic.source).toBe('panicstr');
      expect('notAvailable' in r.msgbuf && r.msgbuf.notAvailable).toMatch(/^msgbuf ring at 0x[0-9a-f]+: page 0x[0-9a-f]+ unmapped: .* is not present \(entry 0x0\)$/);
      const text = formatReportText(r);
      expect(text.split('\n')[0]).toBe('(unknown host) dumped core - see (unnamed dump)'.replace('(unnamed dump)', r.dump.name ?? '(unnamed dump)'));
      expect(text).toContain('version:     not available (symbol version not in namelist)');
      expect(text).toContain('message buffer: not available (msgbuf ring at');
    });
  }

  it('crash time from the old `struct timeval time` when time_second is missing', async () => {
    const { kd } = await openFixture('i386', { omitSymbols: ['time_second'], timevalSecond: 1700000000n });
    const r = await buildTriageReport(dumpView(kd));
    expect(r.crashTime).toEqual({ value: { sec: 1700000000, nsec: null, iso: '2023-11-14T22:13:20.000Z', source: 'time' } });
  });

  it('a zero time_second is "dump time is zero" (spec 7.3 step 9)', async () => {
    const { kd } = await openFixture('aarch64', { timeSecond: 0n, boottime: 5n });
    const r = await buildTriageReport(dumpView(kd));
    expect(r.crashTime).toEqual({ notAvailable: 'dump time is zero (time_second)' });
  });

  it('no kernel file / no header: nothing throws', async () => {
    const img = buildDumpImage({ flavour: 'amd64', seed: 2 });
    const kd = await Kvm.open({ dump: new MemorySource(img.toBytes()) });
    const r: TriageReport = await buildTriageReport(dumpView(kd));
    expect(r.version).toEqual({ notAvailable: 'kvm_nlist: bad namelist (no kernel file given)' });
    expect(r.kernelFileVersion).toEqual({ notAvailable: 'no kernel file given' });
    expect(r.machine).toEqual({ notAvailable: 'no valid dump header' });
    expect(r.panic).toEqual({
      message: null, source: null, reasons: [expect.stringContaining('bad namelist'), expect.stringContaining('bad namelist')], savecoreSyslog: 'reboot',
      verdict: 'undetermined', messageBufferLine: null,
    });
    // Missing symbols are not evidence of no panic.
    expect(formatReportText(r)).toContain('panic:       not determined (savecore\'s derivation could not run: kvm_nlist: bad namelist');
    expect(formatReportText(r)).not.toContain('panic:       none');
  });

  it.each(FLAVOURS)('%s: a kernel without panicstart/panicstr: not "no panic", and the last panic line of the message buffer as found there', async (flavour) => {
    const model = simulateLog({ flavour, runtimeBytes: 3000, panic: PANIC });
    const { kd } = await openFixture(flavour, { ...model.triage, omitSymbols: ['panicstart', 'panicend', 'panicstr'] });
    const r = await buildTriageReport(dumpView(kd), { lines: 3 });
    const found = tail(model.expect.dmesgText, 1e9).filter((l) => l.includes('panic: ')).at(-1)!;
    expect(found).toContain('panic: ');
    expect(r.panic).toMatchObject({ message: null, verdict: 'undetermined', messageBufferLine: found });
    const text = formatReportText(r);
    expect(text).toContain('panic:       not determined (savecore\'s derivation could not run: symbol panicstart not in namelist; symbol panicstr not in namelist)');
    expect(text).toContain(`in msgbuf:   ${found}  [last "panic:" line found in the message buffer]`);
    expect(text).not.toMatch(/panic: +none/);
  });

  it('the kernel file does not match the dump: savecore\'s warning', async () => {
    const a = buildDumpImage({ flavour: 'amd64', seed: 4, triage: { version: 'NetBSD 10.1 (GENERIC) #0: AAAA\n' } });
    const b = buildDumpImage({ flavour: 'amd64', seed: 4, triage: { version: 'NetBSD 10.1 (GENERIC) #0: BBBB\n' } });
    const kernel = new MemorySource(b.kernel);
    const kd = await Kvm.open({ dump: new MemorySource(a.toBytes()), kernel });
    await kd.mkheader(a.facts.dumpOff);
    const r = await buildTriageReport(dumpView(kd));
    const warning = `warning: ${kernel.name} version mismatch:\n\tNetBSD 10.1 (GENERIC) #0: BBBB\n\nand\tNetBSD 10.1 (GENERIC) #0: AAAA\n\n`;
    expect(r.versionCheck).toEqual({ value: { match: false, warning } });
    expect(versionMismatch('x', 'x')).toBeNull();
    expect(versionMismatch('a'.repeat(1100), 'a'.repeat(1023) + 'b')).toBeNull(); // savecore compares 1023 bytes
  });
});

function ctime(sec: number): string {
  // Written out independently of core/triage: "Www Mmm dd hh:mm:ss yyyy UTC".
  const d = new Date(sec * 1000);
  const s = d.toUTCString(); // "Thu, 18 Nov 2026 03:06:40 GMT"
  const m = /^(\w+), (\d+) (\w+) (\d+) ([\d:]+) GMT$/.exec(s)!;
  return `${m[1]} ${m[3]} ${m[2].padStart(2, ' ')} ${m[5]} ${m[4]} UTC`;
}
