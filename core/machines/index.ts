// Registry of supported architectures: the MID in a dump header picks the module, so one build
// reads dumps of every supported architecture on any host.

import type { MachineModule, MachineName } from './machine.ts';
import { amd64 } from './amd64.ts';
import { i386 } from './i386.ts';
import { aarch64 } from './aarch64.ts';

export const MACHINES: readonly MachineModule[] = Object.freeze([amd64, i386, aarch64]);

export function machineByMid(mid: number): MachineModule | undefined {
  return MACHINES.find((m) => m.mid === mid);
}

/** 'i386pae' pins the same MID as 'i386': the PAE bit in the header still selects the walk. */
export function machineByName(name: MachineName): MachineModule | undefined {
  const base = name === 'i386pae' ? 'i386' : name;
  return MACHINES.find((m) => m.name === base);
}

export const MACHINE_NAMES: readonly MachineName[] = ['amd64', 'i386', 'i386pae', 'aarch64'];
