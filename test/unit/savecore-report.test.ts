// savecore's triage outputs: netbsd.N.report.txt checked in full and the manifest's `report` object
// field by field, both against the inputs the fixture dump was built from (host name, version,
// times, the message buffer's lines); the manifest's record of the report file against its bytes.

import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dumpsRemovedAfterEach, messagesOf, run, sha256 } from './savecore-fixture.ts';

const dump = dumpsRemovedAfterEach();

const HOSTNAME = 'crashlab-7.example.org';
const VERSION = 'NetBSD 10.1 (GENERIC) #0: Mon Dec 16 13:08:11 UTC 2024\n\tbuilder@build.example.org:/usr/obj/sys/arch/amd64/compile/CRASHLAB\n';
const CRASH = 1795000000; // Wed Nov 18 11:06:40 2026 UTC, an hour before the fixture's "now"
const BOOT = CRASH - 7384; // 2h 3m 4s earlier: 09:03:36
const BEFORE_PANIC = [
  '[     1.000000] NetBSD 10.1 (GENERIC) #0: Mon Dec 16 13:08:11 UTC 2024',
  '[     1.000000] total memory = 16 MB',
  '[     2.500000] wm0 at pci0 dev 25 function 0: Intel i219-LM',
  '[  7380.250000] fatal page fault in supervisor mode',
  '[  7380.250000] trap type 6 code 0 rip 0xffffffff80a1b2c3 cs 0x8 rflags 0x10246 cr2 0x10 ilevel 0 rsp 0xffffbd8012345e40',
  '[  7380.250000] curlwp 0xffff8a0001234560 pid 4711.4711 lowest kstack 0xffffbd80123412c0',
];
const PANIC_LINE = '[  7380.250000] panic: trap';
const AFTER_PANIC = ['[  7380.250000] cpu0: Begin traceback...', '[  7380.250000] dumping to dev 0,1 (offset=8, size=4096):'];
const LAST = '[  7380.250000] dump '; // dumpsys() was still writing: no newline

/** The ring as panic() left it: unwrapped, from index 0, panicstart/panicend around the panic line. */
function panicLog(): { contents: Uint8Array; panicstart: number; panicend: number } {
  const before = BEFORE_PANIC.map((l) => l + '\n').join('');
  const text = before + PANIC_LINE + '\n' + AFTER_PANIC.map((l) => l + '\n').join('') + LAST;
  return { contents: new TextEncoder().encode(text), panicstart: before.length, panicend: before.length + PANIC_LINE.length + 1 };
}

describe('savecore job: the triage report and its manifest record', () => {
  it('amd64 with a panic: report.txt in full, manifest.report from the fixture inputs, files.report from the file', async () => {
    const log = panicLog();
    const d = dump({
      flavour: 'amd64', seed: 21,
      triage: {
        msgbuf: { contents: log.contents, bufx: log.contents.length, bufr: 0 },
        panicstr: 'trap', panicstart: log.panicstart, panicend: log.panicend,
        hostname: HOSTNAME, version: VERSION, timeSecond: BigInt(CRASH), boottime: BigInt(BOOT),
      },
    });
    const r = await run(d);
    expect([r.status, r.exitCode]).toEqual(['saved', 0]);
    expect(messagesOf(r)).toContain(`reboot after panic: ${PANIC_LINE}`);
    const reportPath = join(d.crashDir, 'netbsd.0.report.txt');
    expect(r.files?.report).toBe(reportPath);

    // RAM: 0x9f000 + 0xf00000 = 16379904 bytes (15.62 MiB); ring 8 * 4096 - 4 * 8 = 32736 bytes.
    const text = readFileSync(reportPath, 'utf8');
    expect(text).toBe([
      `${HOSTNAME} dumped core - see ${d.device}`,
      '',
      'crash time:  Wed Nov 18 11:06:40 2026 UTC (time_second 1795000000)',
      'boot time:   Wed Nov 18 09:03:36 2026 UTC (1794992616)',
      'uptime:      0d 2h 3m 4s',
      'version:     NetBSD 10.1 (GENERIC) #0: Mon Dec 16 13:08:11 UTC 2024',
      '             builder@build.example.org:/usr/obj/sys/arch/amd64/compile/CRASHLAB',
      'machine:     amd64, 16379904 bytes (15.6 MiB) physical memory in 2 segments',
      '',
      'panic:       [  7380.250000] panic: trap  [from message buffer, panicstart..panicend]',
      'savecore:    reboot after panic: [  7380.250000] panic: trap',
      '',
      '-'.repeat(72),
      'message buffer: last 10 of 10 lines (32736-byte ring)',
      '',
      '[     1.000000] NetBSD 10.1 (GENERIC) #0: Mon Dec 16 13:08:11 UTC 2024',
      '[     1.000000] total memory = 16 MB',
      '[     2.500000] wm0 at pci0 dev 25 function 0: Intel i219-LM',
      '[  7380.250000] fatal page fault in supervisor mode',
      '[  7380.250000] trap type 6 code 0 rip 0xffffffff80a1b2c3 cs 0x8 rflags 0x10246 cr2 0x10 ilevel 0 rsp 0xffffbd8012345e40',
      '[  7380.250000] curlwp 0xffff8a0001234560 pid 4711.4711 lowest kstack 0xffffbd80123412c0',
      '[  7380.250000] panic: trap',
      '[  7380.250000] cpu0: Begin traceback...',
      '[  7380.250000] dumping to dev 0,1 (offset=8, size=4096):',
      '[  7380.250000] dump ',
      '',
    ].join('\n'));

    const m = JSON.parse(readFileSync(join(d.crashDir, 'netbsd.0.manifest.json'), 'utf8'));
    const bytes = readFileSync(reportPath);
    expect(m.files.report).toEqual({ name: 'netbsd.0.report.txt', size: statSync(reportPath).size, sha256: sha256(bytes) });
    expect(m.files.report.size).toBe(Buffer.byteLength(text));

    const rep = m.report;
    expect(rep.schema).toBe('kvmdump-triage/1');
    expect(rep.version).toEqual({ value: VERSION });
    expect(rep.kernelFileVersion).toEqual({ value: VERSION });
    expect(rep.versionCheck).toEqual({ value: { match: true, warning: null } });
    expect(rep.ostype).toEqual({ value: 'NetBSD' });
    expect(rep.osrelease).toEqual({ value: '10.1' });
    expect(rep.hostname).toEqual({ value: HOSTNAME });
    expect(rep.crashTime).toEqual({ value: { sec: 1795000000, nsec: null, iso: '2026-11-18T11:06:40.000Z', source: 'time_second' } });
    // boottime's tv_nsec is the fixture kernel's 123456789.
    expect(rep.boottime).toEqual({ value: { sec: 1794992616, nsec: 123456789, iso: '2026-11-18T09:03:36.123Z' } });
    expect(rep.uptime).toEqual({ value: { seconds: 7384, text: '0d 2h 3m 4s' } });
    expect(rep.panic).toEqual({ message: PANIC_LINE, source: 'msgbuf', reasons: [], savecoreSyslog: `reboot after panic: ${PANIC_LINE}`, verdict: 'panic', messageBufferLine: PANIC_LINE });
    const written = log.contents.length;
    expect(rep.msgbuf).toEqual({
      value: {
        va: '0xffff800000000000', magic: '0x63061', bufx: written, bufr: 0, bufs: 32736, bufcOffset: 32, wrapped: false,
        textLength: written, lineCount: 10, lastLines: [...BEFORE_PANIC, PANIC_LINE, ...AFTER_PANIC, LAST],
      },
    });
    expect(rep.physicalMemory).toEqual({ value: { bytes: 16379904, segments: [{ start: '0x0', size: '0x9f000' }, { start: '0x100000', size: '0xf00000' }] } });
    expect(rep.machine.value).toMatchObject({ name: 'amd64', longSize: 8, pageSize: 4096 });
    // dumplo 64 (the fixture default): the header at 32768 on the device.
    expect(rep.dump).toEqual({ name: d.device, format: 'dump-device', headerOffset: 64 * 512, memoryOffset: d.img.facts.memOff, cpuDataSize: d.img.facts.cpuData.length });

    // The manifest's own savecore fields agree with the report.
    expect(m.panic).toMatchObject({ message: PANIC_LINE, source: 'msgbuf', syslog: `reboot after panic: ${PANIC_LINE}` });
    expect(m.crashTime).toMatchObject({ epoch: 1795000000, iso: '2026-11-18T11:06:40.000Z', source: 'time_second' });
    expect(m.bootTime).toEqual({ epoch: 1794992616, iso: '2026-11-18T09:03:36.000Z' });
    expect(m.kernel.version).toBe(VERSION);
    expect(m.dumpKernelVersion).toBe(VERSION);
  });
});
