// Whole disks and images in the app: the partition map and the dumps cpu_dumpconf left in their
// NetBSD swap partitions (main/disks/survey.ts, the same search as `kvmdump disks`), for the Devices
// list and for an image typed into the Open view. Read-only; reads a few MiB per disk.

import type { DeviceEntry, DeviceList, DiskSurveyResult } from '../../../contract/results.ts';
import { surveyDisk, type DiskSurvey } from '../../disks/survey.ts';
import { isImageSet } from '../../sources/image-set.ts';
import { openDiskSource } from '../../session/disk-source.ts';
import type { HandlerContext } from '../context.ts';
import { openFailure } from './dump-ops.ts';

export function surveyResult(path: string, s: DiskSurvey, image: DiskSurveyResult['image']): DiskSurveyResult {
  return {
    path, size: s.size, image, schemes: s.map.schemes, warnings: [...s.map.warnings, ...s.notes], bytesRead: s.bytesRead,
    partitions: s.map.partitions.map((p) => ({ id: p.id, name: p.name, typeName: p.typeName, netbsdKind: p.kind, start: p.start, size: p.size })),
    dumps: s.dumps.map((d) => ({
      partition: d.partition?.id ?? null, partitionName: d.partition?.name ?? null, partitionType: d.partition?.typeName ?? null,
      partitionStart: d.partition?.start ?? 0, partitionSize: d.partition?.size ?? s.size,
      dumplo: d.dumplo, dumpOffset: d.dumplo * 512, absoluteOffset: d.offset, machine: d.machine, memoryBytes: d.memoryBytes,
      crashTime: d.details?.crashTime ?? null, state: d.details?.state ?? 'unknown', stateNote: d.details?.note ?? '', summary: d.summary,
    })),
  };
}

/**
 * The Devices list surveys every readable whole disk each time it is shown: each partition is
 * searched backwards from its end for at most this much (a dump of up to this size is found; a
 * larger one, or none, costs no more than this). An image asked for in the Open view is searched whole.
 */
export const DEVICE_LIST_SEARCH_LIMIT = 2 * 2 ** 30;

/** Survey one disk or image by path. */
export async function surveyPath(path: string, maxBytesPerPartition?: number): Promise<DiskSurveyResult> {
  const src = await openDiskSource(path);
  try {
    const s = await surveyDisk(src, { maxBytesPerPartition });
    const image = isImageSet(src) ? { format: src.image.format, files: src.image.files.length } : null;
    return surveyResult(path, s, image);
  } finally {
    await src.close();
  }
}

export async function surveyDiskOp(_ctx: HandlerContext, a: { path: string }): Promise<DiskSurveyResult> {
  try {
    return await surveyPath(a.path);
  } catch (e) {
    throw openFailure(a.path, e);
  }
}

/** Each readable whole disk of the list with its partitions and dumps; a disk that fails says why. */
export async function withSurveys(list: DeviceList): Promise<DeviceList> {
  const devices = await Promise.all(list.devices.map(async (d): Promise<DeviceEntry> => {
    if (d.kind !== 'disk' || !d.readable) return d;
    try {
      return { ...d, survey: await surveyPath(d.path, DEVICE_LIST_SEARCH_LIMIT), surveyError: null };
    } catch (e) {
      return { ...d, survey: null, surveyError: (e as Error).message };
    }
  }));
  return { ...list, devices };
}
