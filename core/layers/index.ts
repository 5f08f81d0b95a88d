// The strict memory layers of an opened dump: physical (segments over the source), kernel virtual
// (the machine's translation over physical) and the dump file itself. Built from what the header
// set up (after kvm_dump_mkheader or a savecore core's format-B load); before that, reads in the
// physical and virtual spaces fault with 'no-header'.

import type { MachineModule, MachineName, MachineState } from '../machines/machine.ts';
import type { DumpSource } from '../source.ts';
import { fileSpace, type FileSpace } from './file.ts';
import { NO_HEADER_PHYSICAL, PhysicalLayer } from './physical.ts';
import type { PhysicalSpace, VirtualSpace } from './types.ts';
import { noHeaderVirtual, VirtualLayer } from './virtual.ts';

export type { FileSpace } from './file.ts';
export { readSourceStrict } from './file.ts';
export { PhysicalLayer } from './physical.ts';
export { VirtualLayer } from './virtual.ts';
export * from './types.ts';

/** What the layers need from an opened dump (a Kvm handle has all of it). */
export interface DumpMemorySetup {
  readonly dumpSource: DumpSource;
  /** The parsed CPU header, null before a header is set up. */
  readonly machine: MachineState | null;
  readonly machineModule: MachineModule | null;
  /** File offset of the first memory byte (libkvm's dump_off). */
  readonly dumpOff: number;
  /** sizeof(u_long) of the crashed machine. */
  readonly longSize: 4 | 8;
}

export interface MemoryLayers {
  /** The machine in effect (i386pae when the header's PAE bit is set), null without a header. */
  machine: MachineName | null;
  physical: PhysicalSpace;
  virtual: VirtualSpace;
  file: FileSpace;
}

/** The strict layers over a dump whose header is set up (or fault-only ones when it is not). */
export function memoryLayers(setup: DumpMemorySetup): MemoryLayers {
  const file = fileSpace(setup.dumpSource);
  const state = setup.machine;
  const module = setup.machineModule;
  if (!state || !module) {
    return { machine: null, physical: NO_HEADER_PHYSICAL, virtual: noHeaderVirtual(setup.longSize, true), file };
  }
  const physical = new PhysicalLayer({ source: setup.dumpSource, segments: state.segments, rule: state.segmentEndRule, memoryOffset: setup.dumpOff });
  const virtual = new VirtualLayer(state, physical, { pointerSize: module.longSize, littleEndian: module.littleEndian });
  return { machine: state.name, physical, virtual, file };
}
