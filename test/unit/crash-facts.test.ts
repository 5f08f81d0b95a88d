// The crash facts (issue 8): one reader each for crash time, boot time and the version string, one
// ctime formatter, exact-length reads that fault instead of reading foreign bytes — and savecore's
// checks and the triage report state the same facts on the same dump, byte for byte.
import { describe, expect, it } from 'vitest';
import { ctime, readBootTime, readCrashTime, readKernelFileVersion, readVersion } from '../../core/crash/facts.ts';
import { readExactly } from '../../core/crash/kread.ts';
import { locateDumpmag } from '../../core/crash/dumpmag.ts';
import { dumpView } from '../../core/kvm/view.ts';
import { buildTriageReport } from '../../core/triage/report.ts';
import { formatReportText } from '../../core/triage/report-text.ts';
import { compareVersions, crashTime, lookupDumpSymbols } from '../../main/jobs/savecore/checks.ts';
import { FLAVOURS, openFixture } from './triage-helpers.ts';

const VERSION = 'NetBSD 10.1 (CRASH) #7: Mon Dec 16 13:08:11 UTC 2024\n\tnobody@example.org:/usr/src/sys/arch/x/compile/CRASH\n';

describe('crash facts', () => {
  it.each(FLAVOURS)('%s: one reader each for crash time, boot time and version', async (flavour) => {
    const { kd } = await openFixture(flavour, { timeSecond: 1_734_354_491n, boottime: 1_734_000_000n, version: VERSION });
    const view = dumpView(kd);
    expect(await readCrashTime(view)).toEqual({ ok: true, value: { sec: 1_734_354_491, source: 'time_second' } });
    expect(await readBootTime(view)).toMatchObject({ ok: true, value: { sec: 1_734_000_000 } });
    expect(await readVersion(view)).toEqual({ ok: true, value: VERSION });
    const va = (await view.nlist(['_version'])).entries[0].value;
    expect(await readKernelFileVersion(kd.kernelSource!, va)).toEqual({ ok: true, value: VERSION });
  });

  it('crash time falls back to struct timeval time when time_second is missing', async () => {
    const { kd } = await openFixture('i386', { omitSymbols: ['time_second'], timevalSecond: 1_700_000_000n });
    expect(await readCrashTime(dumpView(kd))).toEqual({ ok: true, value: { sec: 1_700_000_000, source: 'time' } });
  });

  it.each(FLAVOURS)('%s: savecore\'s checks and the triage report agree byte for byte', async (flavour) => {
    const { kd } = await openFixture(flavour, { timeSecond: 1_734_354_491n, boottime: 1_734_000_000n, version: `${VERSION}é\n` });
    const view = dumpView(kd);
    const report = await buildTriageReport(view);
    const syms = await lookupDumpSymbols(view, 'netbsd');
    const versions = await compareVersions(view, kd.kernelSource, syms, 'netbsd');
    const ct = await crashTime(view, 1_734_354_491);
    expect('value' in report.version && report.version.value).toBe(versions.dump);
    expect('value' in report.kernelFileVersion && report.kernelFileVersion.value).toBe(versions.running);
    expect(versions.mismatch).toBe(false);
    expect('value' in report.versionCheck && report.versionCheck.value.match).toBe(true);
    expect('value' in report.crashTime && [report.crashTime.value.sec, report.crashTime.value.source]).toEqual([ct.time, ct.source]);
    expect(ct.log[0].message).toBe(`system went down at ${ctime(1_734_354_491, 'local')}\n`);
    expect(formatReportText(report)).toContain(`crash time:  ${ctime(1_734_354_491, 'utc')} UTC (time_second 1734354491)`);
  });
});

describe('ctime', () => {
  it('prints ctime(3)\'s layout in UTC, and @sec outside what Date shows', () => {
    expect(ctime(1_735_776_253, 'utc')).toBe('Thu Jan  2 00:04:13 2025');
    expect(ctime(0, 'utc')).toBe('Thu Jan  1 00:00:00 1970');
    expect(ctime(1e18, 'utc')).toBe('@1000000000000000000');
  });
});

describe('exact-length reads and dumpmag', () => {
  it('a read running into an unmapped page fails naming the page, with no partial value', async () => {
    const { kd, img } = await openFixture('amd64', { unmapMsgbufPages: [1] });
    const va = img.facts.kernelData.msgbuf.va;
    const r = await readExactly(dumpView(kd), va + 4090n, 16, 'msgbuf');
    expect(r).toEqual({ ok: false, reason: expect.stringMatching(new RegExp(`^msgbuf at 0x${(va + 4090n).toString(16)}: page 0x${(va + 4096n).toString(16)} unmapped: PTE \\(level 1\\)`)) });
  });

  it('dumpmag is found in the dump\'s memory, and refused where its PA is in no segment', async () => {
    const { kd, img } = await openFixture('amd64', {});
    const view = dumpView(kd);
    expect(await locateDumpmag(view)).toEqual({ ok: true, value: { va: img.facts.symbols.dumpmag.va, pa: img.facts.symbols.dumpmag.pa, fileOffset: img.facts.symbols.dumpmag.fileOff } });
    // A namelist that puts dumpmag at the direct map of the ISA hole (PA 0xa0000).
    const lying = { ...view, nlist: async () => ({ result: 0, error: '', entries: [{ name: '_dumpmag', type: 0, value: 0xfffffe80000a0000n, found: true }] }) };
    expect(await locateDumpmag(lying)).toEqual({ ok: false, reason: 'dumpmag at 0xfffffe80000a0000 maps to PA 0xa0000, which is in no memory segment of the dump' });
  });
});
