// What a presenting reader (triage, savecore's checks, ksyms discovery) sees of an opened dump:
// the strict layers, the machine's shape, and the namelist lookup — not libkvm's read/kvatop
// (whose quirks return foreign or stale bytes as memory). Built from a Kvm by core/kvm/view.ts.

import type { NlistResult } from '../format/nlist.ts';
import type { MachineModule, MachineState } from '../machines/machine.ts';
import type { DumpSource } from '../source.ts';
import type { MemoryLayers } from './index.ts';

export interface DumpView extends MemoryLayers {
  readonly dumpSource: DumpSource;
  /** The kernel file given with the dump (for its own version string and dumpmag), or null. */
  readonly kernelSource: DumpSource | null;
  /** The parsed CPU header (segments, fields), null without a dump header. */
  readonly state: MachineState | null;
  readonly module: MachineModule | null;
  /** sizeof(long) and byte order of the crashed machine. */
  readonly longSize: 4 | 8;
  readonly littleEndian: boolean;
  readonly pageSize: number;
  /** File offset of the first memory byte. */
  readonly dumpOff: number;
  readonly hasHeader: boolean;
  readonly isCoreFile: boolean;
  readonly cpuDataSize: number;
  /** Symbol values from the namelist (the kernel file, or the dump's own ksyms); error is kvm_geterr's text on -1. */
  nlist(names: readonly string[]): Promise<NlistResult & { error: string }>;
}
