// Mounts: mountlist in whichever shape the debug information describes. NetBSD 8 and earlier
// thread struct mount through mnt_list; NetBSD 9 and later keep a TAILQ of struct
// mountlist_entry (me_list, me_mount, me_type) whose ME_MARKER entries are iterators' placeholders.

import { field } from '../types/api.ts';
import { enumValue, hex, ObjectFault, readPointer, readStruct, symbolAddress, walkList, type ObjectContext } from './memory.ts';
import type { Listing } from './processes.ts';

export interface MountInfo {
  address: string;
  fstype: string;
  mountedOn: string;
  mountedFrom: string;
  flags: number;
}

export async function listMounts(ctx: ObjectContext): Promise<Listing<MountInfo> & { shape: 'mountlist_entry' | 'mnt_list' }> {
  const head = symbolAddress(ctx, 'mountlist');
  const entryT = ctx.types.struct('mountlist_entry');
  const shape = entryT ? 'mountlist_entry' : 'mnt_list';
  const items: MountInfo[] = [];
  let first: bigint;
  try {
    first = await readPointer(ctx, 'mountlist', head);
  } catch (e) {
    if (e instanceof ObjectFault) return { items, shape, end: { complete: false, reason: e.message, address: e.address } };
    throw e;
  }
  const describe = async (va: bigint) => {
    const m = await readStruct(ctx, 'mount', va);
    items.push({
      address: hex(va),
      fstype: m.chars('mnt_stat.f_fstypename'),
      mountedOn: m.chars('mnt_stat.f_mntonname'),
      mountedFrom: m.chars('mnt_stat.f_mntfromname'),
      flags: m.num('mnt_flag'),
    });
    return m;
  };
  if (entryT) {
    const typeField = field(entryT, 'me_type');
    const marker = typeField ? enumValue(typeField.type, 'ME_MARKER') : null;
    const end = await walkList(first, async (va) => {
      const me = await readStruct(ctx, 'mountlist_entry', va);
      if (marker === null || me.int('me_type') !== marker) await describe(me.ptr('me_mount'));
      return me.ptr('me_list.tqe_next');
    });
    return { items, shape, end };
  }
  const end = await walkList(first, async (va) => (await describe(va)).ptr('mnt_list.tqe_next'));
  return { items, shape, end };
}
