// The ObjectContext for an opened dump: strict memory, the debug kernel's types and the kernel's
// symbol table (the --kernel image, or the ksyms the dump carries).

import type { DumpView } from '../layers/dump-view.ts';
import type { DumpSource } from '../source.ts';
import { listSymbols, STB_GLOBAL, STT_FUNC } from '../format/elf.ts';
import type { TypeInfo } from '../types/api.ts';
import type { VirtualSpace } from '../layers/types.ts';
import type { ObjectContext } from './memory.ts';
import { symbolizer } from './symbolize.ts';

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

/**
 * Objects are shown to a person: memory comes from the strict virtual layer (a hole or an address
 * in no segment is a fault, never bytes); namelist is the --kernel image or the dump's own ksyms.
 */
export async function objectContext(view: DumpView, namelist: DumpSource | null, types: TypeInfo, vm?: VirtualSpace): Promise<ObjectContext> {
  if (!namelist) throw new Error('no kernel symbols: give --kernel (or a dump that carries its ksyms)');
  if (!vm && !view.hasHeader) throw new Error('no dump header: no memory to read');
  return { vm: vm ?? view.virtual, types, ...(await symbolContext(namelist)) };
}
