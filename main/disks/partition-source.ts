// `--partition N`: a dump device that is one partition of a disk or image, the way NetBSD sees its
// swap partition. Offsets (--dump-offset, dumplo) then count from the partition's start.

import { findPartition, readPartitionMap, describe as describePartition } from '../../core/partitions/read-map.ts';
import { WindowSource } from '../../core/partitions/window-source.ts';
import type { Partition, PartitionMap } from '../../core/partitions/types.ts';
import type { DumpSource } from '../../core/source.ts';

export interface PartitionView {
  source: WindowSource;
  partition: Partition;
  map: PartitionMap;
}

export class PartitionError extends Error {
  override name = 'PartitionError';
}

export async function openPartition(disk: DumpSource, id: string): Promise<PartitionView> {
  const map = await readPartitionMap(disk);
  const partition = findPartition(map, id);
  if (!partition) {
    const have = map.partitions.map((p) => (p.name !== p.id ? `${p.id} '${p.name}'` : p.id)).join(', ');
    throw new PartitionError(`${disk.name}: no partition ${id} (${have ? `partitions: ${have}` : `no partition map found${map.warnings.length ? `: ${map.warnings.join('; ')}` : ''}`})`);
  }
  const available = disk.size > 0 ? Math.max(0, Math.min(partition.size, disk.size - partition.start)) : partition.size;
  const source = new WindowSource(disk, partition.start, available, `${disk.name} ${describePartition(partition)}`);
  return { source, partition, map };
}
