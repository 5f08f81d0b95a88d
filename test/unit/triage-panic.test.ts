// savecore's check_kmem panic message (spec 7.4) against the independent logputchar model.

import { describe, expect, it } from 'vitest';
import { dumpView } from '../../core/kvm/view.ts';
import { readPanicMessage, savecoreSyslogLine } from '../../core/triage/panic.ts';
import { simulateLog, type LogScenario } from '../fixtures/msgbuf-model.ts';
import { FLAVOURS, openFixture } from './triage-helpers.ts';

const KASSERT = { format: 'kernel diagnostic assertion "%s" failed: file "%s", line %d ', text: 'kernel diagnostic assertion "l->l_stat == LSONPROC" failed: file "../../../../kern/kern_synch.c", line 1142 ' };
const LONG_TEXT = 'kernel diagnostic assertion "' + 'a_very_long_condition && '.repeat(52) + 'x" failed';

type Case = { name: string; scenario: Omit<LogScenario, 'flavour'>; reasons?: RegExp };
const CASES: Case[] = [
  { name: 'linear', scenario: { runtimeBytes: 3000, panic: KASSERT } },
  { name: 'wrapped once', scenario: { runtimeBytes: 40000, panic: { format: 'trap', before: ['fatal page fault in supervisor mode', 'trap type 6 code 0 rip 0xffffffff80a1b2c3'] } } },
  { name: 'wrapped several times', scenario: { runtimeBytes: 150000, panic: { format: 'lockdebug abort: %s', text: 'lockdebug abort: spin lock held too long' } } },
  { name: 'panic text straddles the wrap', scenario: { runtimeBytes: 1000, panicAtIndex: { index: -40, minWraps: 0 }, panic: KASSERT } },
  { name: 'panic at index 0 → panicstr', scenario: { runtimeBytes: 1000, panicAtIndex: { index: 0, minWraps: 1 }, panic: KASSERT }, reasons: /^panicstart 0, panicend \d+: not both non-zero$/ },
  { name: 'long panic cut at 1023', scenario: { runtimeBytes: 5000, panic: { format: LONG_TEXT } } },
  { name: 'no panic', scenario: { runtimeBytes: 2000, panic: null }, reasons: /panicstr is NULL/ },
  { name: 'bad msgbuf magic → panicstr', scenario: { runtimeBytes: 2000, magic: 0x063062, panic: KASSERT }, reasons: /^msgbuf magic 0x63062 != 0x63061$/ },
];

/** Pieces missing from the kernel or the dump: the same expectations as savecore's fallback. */
const DAMAGED: { name: string; extra: { omitSymbols?: string[]; unmapMsgbufPages?: number[] }; message: 'panicstr' | null; reasons: RegExp }[] = [
  { name: 'panicstart not in namelist', extra: { omitSymbols: ['panicstart'] }, message: 'panicstr', reasons: /^symbol panicstart not in namelist$/ },
  { name: 'msgbufp not in namelist', extra: { omitSymbols: ['msgbufp'] }, message: 'panicstr', reasons: /^symbol msgbufp not in namelist$/ },
  { name: 'panicstr and panicend not in namelist', extra: { omitSymbols: ['panicend', 'panicstr'] }, message: null, reasons: /^symbol panicend not in namelist\nsymbol panicstr not in namelist$/ },
  { name: 'msgbuf ring page unmapped', extra: { unmapMsgbufPages: [5] }, message: 'panicstr', reasons: /^msgbuf ring at 0x[0-9a-f]+: page 0x[0-9a-f]+ unmapped: .* is not present \(entry 0x0\)$/ },
  { name: 'msgbuf header page unmapped', extra: { unmapMsgbufPages: [0] }, message: 'panicstr', reasons: /^msgbuf header at 0x[0-9a-f]+: page 0x[0-9a-f]+ unmapped: .* is not present \(entry 0x0\)$/ },
];

describe('readPanicMessage (savecore check_kmem)', () => {
  for (const flavour of FLAVOURS) {
    for (const c of CASES) {
      it(`${flavour}: ${c.name}`, async () => {
        const sc = { flavour, ...c.scenario };
        if (sc.panicAtIndex && sc.panicAtIndex.index < 0) sc.panicAtIndex = { ...sc.panicAtIndex, index: sc.panicAtIndex.index + (flavour.startsWith('i386') ? 32752 : 32736) };
        const model = simulateLog(sc);
        const { kd } = await openFixture(flavour, model.triage);
        const info = await readPanicMessage(dumpView(kd));
        expect(info.message).toBe(model.expect.panicMessage);
        expect(info.source).toBe(model.expect.panicSource);
        expect(savecoreSyslogLine(info)).toBe(model.expect.syslogLine);
        if (c.reasons) expect(info.reasons.join('\n')).toMatch(c.reasons);
        else expect(info.reasons).toEqual([]);
      });
    }
  }

  for (const flavour of FLAVOURS) {
    for (const d of DAMAGED) {
      it(`${flavour}: ${d.name}`, async () => {
        const model = simulateLog({ flavour, runtimeBytes: 3000, panic: KASSERT });
        const { kd } = await openFixture(flavour, { ...model.triage, ...d.extra });
        const info = await readPanicMessage(dumpView(kd));
        expect(info.message).toBe(d.message === null ? null : KASSERT.format);
        expect(info.source).toBe(d.message);
        expect(savecoreSyslogLine(info)).toBe(d.message === null ? 'reboot' : `reboot after panic: ${KASSERT.format}`);
        expect(info.reasons.join('\n')).toMatch(d.reasons);
      });
    }
  }

  it('model sanity: the straddling case really has panicend < panicstart, the long one > 1023', () => {
    const s = simulateLog({ flavour: 'amd64', runtimeBytes: 1000, panicAtIndex: { index: 32736 - 40 }, panic: KASSERT });
    expect(s.expect.panicend).toBeLessThan(s.expect.panicstart);
    const l = simulateLog({ flavour: 'i386', runtimeBytes: 10, panic: { format: LONG_TEXT } });
    expect(l.expect.panicLine!.length).toBeGreaterThan(1023);
    expect(l.expect.panicMessage!.length).toBe(1023);
    const z = simulateLog({ flavour: 'aarch64', runtimeBytes: 10, panicAtIndex: { index: 0, minWraps: 1 }, panic: KASSERT });
    expect([z.expect.panicstart, z.expect.bytesWritten > 32736]).toEqual([0, true]);
  });
});

describe('a corrupt msg_bufs (savecore: "couldn\'t allocate space for msgbuf data")', () => {
  for (const flavour of FLAVOURS) {
    it(`${flavour}: the panic falls back to panicstr, the report's message buffer says why, nothing is allocated`, async () => {
      const { Kvm } = await import('../../core/kvm.ts');
      const { MemorySource } = await import('../../core/source.ts');
      const { buildDumpImage } = await import('../fixtures/dump-image.ts');
      const { buildTriageReport } = await import('../../core/triage/report.ts');
      const model = simulateLog({ flavour, runtimeBytes: 2000, panic: KASSERT });
      const img = buildDumpImage({ flavour, seed: 7, triage: model.triage });
      const bytes = img.toBytes();
      const long = img.facts.layout.longSize;
      const at = img.facts.symbols.msgbuf!.fileOff + 3 * long; // struct kern_msgbuf.msg_bufs
      const dv = new DataView(bytes.buffer, bytes.byteOffset);
      if (long === 8) dv.setBigInt64(at, 1n << 40n, true);
      else dv.setInt32(at, -5, true);
      const kd = await Kvm.open({ dump: new MemorySource(bytes), kernel: new MemorySource(img.kernel) });
      expect(await kd.mkheader(img.facts.dumpOff)).toBe(img.facts.headerSize);
      const info = await readPanicMessage(dumpView(kd));
      const bufs = long === 8 ? String(1n << 40n) : '-5';
      expect(info.source).toBe('panicstr');
      expect(info.reasons).toEqual([`couldn't allocate space for msgbuf data (msg_bufs ${bufs})`]);
      const r = await buildTriageReport(dumpView(kd));
      expect(r.msgbuf).toEqual({ notAvailable: expect.stringContaining(`couldn't allocate space for msgbuf data (msg_bufs ${bufs})`) });
    });
  }
});
