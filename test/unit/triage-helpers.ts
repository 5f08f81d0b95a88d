// Shared by the triage tests: open a generated dump the way smoke.test.ts does, with a ring built
// by the independent message-buffer model. (Not a test file itself: no `.test.` in the name.)

import { Kvm } from '../../core/kvm.ts';
import { MemorySource } from '../../core/source.ts';
import { buildDumpImage, type DumpImage } from '../fixtures/dump-image.ts';
import type { TriageSpec } from '../fixtures/kernel-data.ts';
import type { ModelFlavour } from '../fixtures/msgbuf-model.ts';

export const FLAVOURS: readonly ModelFlavour[] = ['amd64', 'aarch64', 'i386', 'i386pae'];

export async function openFixture(flavour: ModelFlavour, triage: TriageSpec, seed = 7): Promise<{ kd: Kvm; img: DumpImage }> {
  const img = buildDumpImage({ flavour, seed, triage });
  const kd = await Kvm.open({ dump: new MemorySource(img.toBytes()), kernel: new MemorySource(img.kernel) });
  const h = await kd.mkheader(img.facts.dumpOff);
  if (h !== img.facts.headerSize) throw new Error(`fixture: mkheader ${h}: ${kd.geterr()}`);
  return { kd, img };
}
