// Where the dump's dumpmag lives, found through the strict layers: savecore invalidates a dump by
// zeroing it (kvm_dump_inval), and libkvm would write wherever its pa2off points — for a PA in no
// segment that is the end of the memory data, i.e. whatever follows the dump on the device. A
// write is only allowed where this lookup finds dumpmag in the dump's own memory.

import type { DumpView } from '../layers/dump-view.ts';
import type { Result } from '../result.ts';

export interface DumpmagLocation {
  va: bigint;
  pa: bigint;
  /** The dump-file offset of dumpmag's first byte. */
  fileOffset: number;
}

export async function locateDumpmag(view: DumpView): Promise<Result<DumpmagLocation>> {
  const nl = await view.nlist(['_dumpmag']);
  if (nl.result === -1) return { ok: false, reason: `kvm_nlist: ${nl.error || 'bad namelist'}${nl.reason ? ` (${nl.reason})` : ''}` };
  const e = nl.entries[0];
  if (!e?.found) return { ok: false, reason: 'dumpmag is not in the namelist' };
  const tr = await view.virtual.translate(e.value);
  if (!tr.ok) return { ok: false, reason: `dumpmag at 0x${e.value.toString(16)} has no translation: ${tr.reason}` };
  const fileOffset = view.physical.fileOffset(tr.pa);
  if (fileOffset === null) return { ok: false, reason: `dumpmag at 0x${e.value.toString(16)} maps to PA 0x${tr.pa.toString(16)}, which is in no memory segment of the dump` };
  return { ok: true, value: { va: e.value, pa: tr.pa, fileOffset } };
}
