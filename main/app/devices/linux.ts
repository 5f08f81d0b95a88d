// Linux disks from sysfs: /sys/block/<disk> (size in 512-byte sectors, model, removable) and its
// partitions (subdirectories that have a `partition` file).

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeviceEntry } from '../../../contract/results.ts';

/** A device as a platform lists it, before it is opened and probed (the rest of a DeviceEntry). */
export type RawDevice = Pick<DeviceEntry, 'path' | 'name' | 'kind' | 'size' | 'model' | 'removable' | 'parent'>;

const SKIP = /^(ram|zram|fd|sr|dm-|md)\d*/; // RAM disks, floppies, optical, mapper/raid nodes

async function text(path: string): Promise<string | null> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return null;
  }
}

const sectors = (s: string | null) => (s && /^\d+$/.test(s) ? Number(s) * 512 : 0);

export async function listLinuxDevices(sysBlock = '/sys/block', devDir = '/dev'): Promise<RawDevice[]> {
  const out: RawDevice[] = [];
  for (const name of (await readdir(sysBlock)).sort()) {
    if (SKIP.test(name)) continue;
    const dir = join(sysBlock, name);
    const size = sectors(await text(join(dir, 'size')));
    if (size === 0) continue; // unattached loop devices, empty card readers
    const diskPath = join(devDir, name);
    const removable = await text(join(dir, 'removable'));
    out.push({
      path: diskPath, name, kind: 'disk', size,
      model: (await text(join(dir, 'device', 'model'))) || null,
      removable: removable === null ? null : removable === '1',
      parent: null,
    });
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries.filter((x) => x.name.startsWith(name)).sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }))) {
      if ((await text(join(dir, e.name, 'partition'))) === null) continue;
      out.push({
        path: join(devDir, e.name), name: e.name, kind: 'partition',
        size: sectors(await text(join(dir, e.name, 'size'))),
        model: null, removable: removable === null ? null : removable === '1', parent: diskPath,
      });
    }
  }
  return out;
}
