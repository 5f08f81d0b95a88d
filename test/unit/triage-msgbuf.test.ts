// dmesg -M reading of the message buffer (spec 2.6) against the independent logputchar model.

import { describe, expect, it } from 'vitest';
import { dumpView } from '../../core/kvm/view.ts';
import { readMessageBuffer } from '../../core/triage/msgbuf.ts';
import { LAYOUTS } from '../fixtures/kernel-layout.ts';
import { longSizeOf, ringSizeOf, simulateLog, type LogScenario } from '../fixtures/msgbuf-model.ts';
import { FLAVOURS, openFixture } from './triage-helpers.ts';

const PANIC = { format: 'trap', before: ['fatal page fault in supervisor mode'] };

const RINGS: { name: string; scenario: Omit<LogScenario, 'flavour'> }[] = [
  { name: 'linear', scenario: { runtimeBytes: 2500, panic: PANIC } },
  { name: 'wrapped once', scenario: { runtimeBytes: 40000, panic: PANIC } },
  { name: 'wrapped several times', scenario: { runtimeBytes: 140000, panic: null } },
  { name: 'panic straddles the wrap', scenario: { runtimeBytes: 100, panicAtIndex: { index: 32700, minWraps: 0 }, panic: PANIC } },
];

describe('readMessageBuffer (dmesg -M)', () => {
  for (const flavour of FLAVOURS) {
    for (const c of RINGS) {
      it(`${flavour}: ${c.name}`, async () => {
        const model = simulateLog({ flavour, ...c.scenario });
        const { kd } = await openFixture(flavour, model.triage);
        const mb = await readMessageBuffer(dumpView(kd));
        expect(mb).toEqual({
          available: true, va: LAYOUTS[flavour].msgbufVa, magic: 0x063061, bufx: model.expect.bufx, bufr: model.expect.bufr,
          bufs: ringSizeOf(flavour), bufcOffset: 4 * longSizeOf(flavour), text: model.expect.dmesgText, wrapped: model.expect.wrapped,
        });
      });
    }

    it(`${flavour}: bad magic → not available, with the reason`, async () => {
      const model = simulateLog({ flavour, runtimeBytes: 100, magic: 0x063062, panic: PANIC });
      const { kd } = await openFixture(flavour, model.triage);
      expect(await readMessageBuffer(dumpView(kd))).toEqual({ available: false, reason: 'msgbuf magic 0x63062 != 0x63061' });
    });

    it(`${flavour}: msgbufp missing from the namelist`, async () => {
      const model = simulateLog({ flavour, runtimeBytes: 100, panic: null });
      const { kd } = await openFixture(flavour, { ...model.triage, omitSymbols: ['msgbufp'] });
      expect(await readMessageBuffer(dumpView(kd))).toEqual({ available: false, reason: 'symbol msgbufp not in namelist' });
    });

    it(`${flavour}: header page unmapped`, async () => {
      const model = simulateLog({ flavour, runtimeBytes: 100, panic: null });
      const { kd } = await openFixture(flavour, { ...model.triage, unmapMsgbufPages: [0] });
      const va = LAYOUTS[flavour].msgbufVa.toString(16);
      const mb = await readMessageBuffer(dumpView(kd));
      expect(mb.available).toBe(false);
      if (!mb.available) expect(mb.reason).toMatch(new RegExp(`^msgbuf header at 0x${va}: page 0x${va} unmapped: (PTE \\(level 1\\)|L3 \\(level 3\\)) at PA 0x[0-9a-f]+ is not present \\(entry 0x0\\)$`));
    });

    it(`${flavour}: a ring page unmapped`, async () => {
      const model = simulateLog({ flavour, runtimeBytes: 100, panic: null });
      const { kd } = await openFixture(flavour, { ...model.triage, unmapMsgbufPages: [3] });
      const base = LAYOUTS[flavour].msgbufVa;
      const ring = (base + BigInt(4 * longSizeOf(flavour))).toString(16);
      const page3 = (base + 3n * 4096n).toString(16);
      const mb = await readMessageBuffer(dumpView(kd));
      expect(mb.available).toBe(false);
      if (!mb.available) expect(mb.reason).toMatch(new RegExp(`^msgbuf ring at 0x${ring}: page 0x${page3} unmapped: .* is not present \\(entry 0x0\\)$`));
    });
  }
});
