// macOS disks from `diskutil list -plist`. Raw nodes (/dev/rdiskN) are what we open: they bypass
// the buffer cache, which is both faster and what a forensic read wants.

import { parsePlist, type PlistValue } from './plist.ts';
import type { RawDevice } from './linux.ts';

type Dict = { [key: string]: PlistValue };
const isDict = (v: unknown): v is Dict => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseDiskutilList(xml: string): RawDevice[] {
  const root = parsePlist(xml);
  const disks = isDict(root) && Array.isArray(root.AllDisksAndPartitions) ? root.AllDisksAndPartitions : [];
  const out: RawDevice[] = [];
  for (const d of disks.filter(isDict)) {
    const id = String(d.DeviceIdentifier ?? '');
    if (!/^disk\d+$/.test(id)) continue;
    const diskPath = `/dev/r${id}`;
    // A disk's Content is its partition scheme (GUID_partition_scheme), not a model: `diskutil list`
    // has no model, so none is shown. A partition's Content is its type (e.g. "NetBSD swap"),
    // which is what finds the dump partition, so it fills that column.
    out.push({ path: diskPath, name: id, kind: 'disk', size: Number(d.Size ?? 0), model: null, removable: null, parent: null });
    const parts = [...(Array.isArray(d.Partitions) ? d.Partitions : []), ...(Array.isArray(d.APFSVolumes) ? d.APFSVolumes : [])];
    for (const p of parts.filter(isDict)) {
      const pid = String(p.DeviceIdentifier ?? '');
      if (!/^disk\d+s\d+$/.test(pid)) continue;
      out.push({
        path: `/dev/r${pid}`, name: pid, kind: 'partition', size: Number(p.Size ?? 0),
        model: typeof p.Content === 'string' ? p.Content : null, removable: null, parent: diskPath,
      });
    }
  }
  return out;
}
