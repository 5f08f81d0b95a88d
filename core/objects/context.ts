// The ObjectContext for an opened dump: strict memory, the debug kernel's types and the kernel's
// symbol table (the --kernel image, or the ksyms the dump carries).

import type { Kvm } from '../kvm/handle.ts';
import type { DumpSource } from '../source.ts';
import { listSymbols, STB_GLOBAL, STT_FUNC } from '../format/elf.ts';
import type { TypeInfo } from '../types/api.ts';
import type { VirtualSpace } from '../layers/types.ts';
import type { ObjectContext } from './memory.ts';
import { symbolizer } from './symbolize.ts';
import { kvmVirtualSpace } from './kvm-space.ts';

export async function symbolContext(namelist: DumpSource): Promise<Pick<ObjectContext, 'symbol' | 'describe'>> {
  const syms = await listSymbols(namelist);
  const byName = new Map<string, { value: bigint; global: boolean }>();
  for (const s of syms) {
    const prev = byName.get(s.name);
    const global = s.bind === STB_GLOBAL;
    if (!prev || (global && !prev.global)) byName.set(s.name, { value: s.value, global });
  }
  const describe = symbolizer(syms.filter((s) => s.type === STT_FUNC));
  return { symbol: (n) => byName.get(n)?.value ?? null, describe };
}

export async function objectContext(kd: Kvm, dump: DumpSource, types: TypeInfo, vm?: VirtualSpace): Promise<ObjectContext> {
  const namelist = kd.namelistSource ?? kd.kernelSource;
  if (!namelist) throw new Error('no kernel symbols: give --kernel (or a dump that carries its ksyms)');
  return { vm: vm ?? kvmVirtualSpace(kd, dump), types, ...(await symbolContext(namelist)) };
}
