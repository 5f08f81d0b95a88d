// Modules: module_list through mod_chain (kern/kern_module.c). Built-in modules have no kobj
// (they live in the kernel image); loaded ones carry their text address and size in it.

import { field } from '../types/api.ts';
import { enumValue, hex, ObjectFault, readCString, readPointer, readStruct, symbolAddress, walkList, type ObjectContext } from './memory.ts';
import type { Listing } from './processes.ts';

export interface ModuleInfo {
  address: string;
  name: string;
  /** Load address of its text, or null for a built-in module. */
  loadAddress: string | null;
  size: number | null;
  builtin: boolean;
  source: string;
  problems: string[];
}

export async function listModules(ctx: ObjectContext): Promise<Listing<ModuleInfo>> {
  const head = symbolAddress(ctx, 'module_list');
  const items: ModuleInfo[] = [];
  let first: bigint;
  try {
    first = await readPointer(ctx, 'module_list', head);
  } catch (e) {
    if (e instanceof ObjectFault) return { items, end: { complete: false, reason: e.message, address: e.address } };
    throw e;
  }
  const moduleT = ctx.types.struct('module');
  const sourceField = moduleT ? field(moduleT, 'mod_source') : null;
  const kernelSource = sourceField ? enumValue(sourceField.type, 'MODULE_SOURCE_KERNEL') ?? 0n : 0n;
  const sourceNames = new Map<bigint, string>([[0n, 'kernel'], [1n, 'boot'], [2n, 'filesys']]);
  const end = await walkList(first, async (va) => {
    const m = await readStruct(ctx, 'module', va);
    const problems: string[] = [];
    let name = '';
    try {
      const info = await readStruct(ctx, 'modinfo', m.ptr('mod_info'));
      name = await readCString(ctx, 'mi_name', info.ptr('mi_name'), 64);
    } catch (e) {
      if (!(e instanceof ObjectFault)) throw e;
      problems.push(e.message);
    }
    const source = m.int('mod_source');
    let loadAddress: string | null = null;
    let size: number | null = null;
    const kobj = m.ptr('mod_kobj');
    if (kobj !== 0n) {
      try {
        const k = await readStruct(ctx, 'kobj', kobj);
        loadAddress = hex(k.ptr('ko_text_address'));
        size = k.num('ko_text_size');
        if (!name) name = k.chars('ko_name');
      } catch (e) {
        if (!(e instanceof ObjectFault)) throw e;
        problems.push(e.message);
      }
    }
    items.push({ address: hex(va), name, loadAddress, size, builtin: source === kernelSource, source: sourceNames.get(source) ?? String(source), problems });
    return m.ptr('mod_chain.tqe_next');
  });
  return { items, end };
}
