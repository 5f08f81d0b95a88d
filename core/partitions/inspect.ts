// What a located dump is: crash time and whether savecore already took it (kvm_dump_inval clears
// the kernel's dumpmag in the dump). Needs symbols: the kernel file when given, else the crashed
// kernel's ksyms found in the dump's own memory (a bounded search).

import { ByteView } from '../format/bytes.ts';
import { DUMPMAG } from '../format/kcore.ts';
import { symbolsFromDump } from '../ksyms/discover.ts';
import { Kvm } from '../kvm.ts';
import { MemorySource, type CancelSignal, type DumpSource } from '../source.ts';
import { lookupSymbols, machineWords, readExactly } from '../crash/kread.ts';
import { dumpView } from '../kvm/view.ts';
import { SECTOR } from './types.ts';

export type DumpState = 'not-saved' | 'invalidated' | 'unknown';

export interface DumpDetails {
  state: DumpState;
  /** Why the state is unknown, or where the symbols came from. */
  note: string;
  /** time_second at the crash (seconds since the epoch), null when it could not be read. */
  crashTime: number | null;
}

export interface InspectOptions {
  kernel?: DumpSource | null;
  /** Physical memory searched for ksyms when there is no kernel (default 64 MiB). */
  ksymsLimitBytes?: number;
  signal?: CancelSignal;
}

/** `partition` is the window the dump lives in; dumplo is relative to it. */
export async function inspectDump(partition: DumpSource, dumplo: number, opts: InspectOptions = {}): Promise<DumpDetails> {
  const kd = await Kvm.open({ dump: partition, kernel: opts.kernel ?? null });
  if ((await kd.mkheader(dumplo * SECTOR)) <= 0) return { state: 'unknown', note: `no valid header: ${kd.geterr()}`, crashTime: null };
  let note = 'symbols from the kernel file';
  if (!opts.kernel) {
    const r = await symbolsFromDump(dumpView(kd), { limitBytes: opts.ksymsLimitBytes ?? 64 << 20, signal: opts.signal });
    if (!r.ok) return { state: 'unknown', note: `no kernel given, and ${r.reason}`, crashTime: null };
    kd.useNamelist(new MemorySource(r.image));
    note = "symbols from the dump's own ksyms";
  }
  const view = dumpView(kd);
  const syms = await lookupSymbols(view, ['dumpmag', 'time_second']);
  const { littleEndian } = machineWords(view);
  let crashTime: number | null = null;
  const t = syms.addr('time_second');
  if (t.ok) {
    const r = await readExactly(view, t.value, 8, 'time_second'); // time_t is 64-bit on every NetBSD ≥ 6 port
    if (r.ok) crashTime = Number(new ByteView(r.value, littleEndian).i64(0)) || null;
  }
  const m = syms.addr('dumpmag');
  if (!m.ok) return { state: 'unknown', note: m.reason, crashTime };
  const r = await readExactly(view, m.value, 4, 'dumpmag');
  if (!r.ok) return { state: 'unknown', note: r.reason, crashTime };
  const mag = new ByteView(r.value, littleEndian).u32(0);
  if (mag === DUMPMAG) return { state: 'not-saved', note, crashTime };
  if (mag === 0) return { state: 'invalidated', note: `${note}; dumpmag is 0: savecore already took this dump`, crashTime };
  return { state: 'unknown', note: `dumpmag is 0x${mag.toString(16)}, neither NetBSD's 0x8fca0101 nor cleared`, crashTime };
}
