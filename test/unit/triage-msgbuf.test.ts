// dmesg -M reading of the message buffer (spec 2.6) against the independent logputchar model.

import { describe, expect, it } from 'vitest';
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
        const mb = await readMessageBuffer(kd);
        expect(mb).toEqual({
          available: true, va: LAYOUTS[flavour].msgbufVa, magic: 0x063061, bufx: model.expect.bufx, bufr: model.expect.bufr,
          bufs: ringSizeOf(flavour), bufcOffset: 4 * longSizeOf(flavour), text: model.expect.dmesgText, wrapped: model.expect.wrapped,
        });
      });
    }

    it(`${flavour}: bad magic → not available, with the reason`, async () => {
      const model = simulateLog({ flavour, runtimeBytes: 100, magic: 0x063062, panic: PANIC });
      const { kd } = await openFixture(flavour, model.triage);
      expect(await readMessageBuffer(kd)).toEqual({ available: false, reason: 'msgbuf magic 0x63062 != 0x63061' });
    });

    it(`${flavour}: msgbufp missing from the namelist`, async () => {
      const model = simulateLog({ flavour, runtimeBytes: 100, panic: null });
      const { kd } = await openFixture(flavour, { ...model.triage, omitSymbols: ['msgbufp'] });
      expect(await readMessageBuffer(kd)).toEqual({ available: false, reason: 'symbol msgbufp not in namelist' });
    });

    it(`${flavour}: header page unmapped`, async () => {
      const model = simulateLog({ flavour, runtimeBytes: 100, panic: null });
      const { kd } = await openFixture(flavour, { ...model.triage, unmapMsgbufPages: [0] });
      const va = LAYOUTS[flavour].msgbufVa.toString(16);
      expect(await readMessageBuffer(kd)).toEqual({ available: false, reason: `kvm_read msgbuf header at 0x${va}: _kvm_kvatop(${va}) — unmapped page` });
    });

    it(`${flavour}: a ring page unmapped`, async () => {
      const model = simulateLog({ flavour, runtimeBytes: 100, panic: null });
      const { kd } = await openFixture(flavour, { ...model.triage, unmapMsgbufPages: [3] });
      const base = LAYOUTS[flavour].msgbufVa;
      const ring = (base + BigInt(4 * longSizeOf(flavour))).toString(16);
      const page3 = (base + 3n * 4096n).toString(16);
      expect(await readMessageBuffer(kd)).toEqual({ available: false, reason: `kvm_read msgbuf ring at 0x${ring}: _kvm_kvatop(${page3}) — unmapped page` });
    });
  }
});
