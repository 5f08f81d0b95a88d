// A disk or image surveyed: its partition map and the dumps cpu_dumpconf left in its NetBSD swap
// partitions (or any partition, or the whole device when there is no map), each described. The
// CLI's `kvmdump disks` and the app's Devices list share it.

import {
  dumpSummary, inspectDump, sizeText, locateDumps, locateInRange, readPartitionMap, WindowSource,
  type DumpDetails, type LocatedDump, type Partition, type PartitionMap,
} from '../../core/partitions/index.ts';
import type { CancelSignal, DumpSource } from '../../core/source.ts';

export interface SurveyedDump extends LocatedDump {
  details: DumpDetails | null;
  summary: string;
}

export interface DiskSurvey {
  device: string;
  size: number;
  map: PartitionMap;
  dumps: SurveyedDump[];
  /** The partitions searched (empty when the whole device was searched). */
  searched: string[];
  /** Every byte read from the device: partition map, dump search and inspection. */
  bytesRead: number;
  /** What was not searched in full (maxBytesPerPartition). */
  notes: string[];
}

export interface SurveyOptions {
  /** Search every partition, not just NetBSD swap ones. */
  allPartitions?: boolean;
  /** Kernel image for the crash time and saved/not saved state (else the dump's own ksyms). */
  kernel?: DumpSource | null;
  /** Skip the crash time and state (no symbol search). */
  quick?: boolean;
  /**
   * Search at most this much of each partition (or of a device without a partition map), backwards
   * from its end: a dump larger than this is not found (a full scan still finds it). Default: all.
   */
  maxBytesPerPartition?: number;
  signal?: CancelSignal;
}

/** Counts what is read through it. */
class CountingSource implements DumpSource {
  bytesRead = 0;
  preadEach?: (buf: Uint8Array, offsets: readonly number[], length: number) => Promise<number>;
  constructor(private readonly base: DumpSource) {
    if (base.preadEach) {
      const gather = base.preadEach.bind(base);
      this.preadEach = async (buf, offsets, length) => {
        const n = await gather(buf, offsets, length);
        this.bytesRead += n * length;
        return n;
      };
    }
  }
  get name() { return this.base.name; }
  get kind() { return this.base.kind; }
  get size() { return this.base.size; }
  async pread(buf: Uint8Array, offset: number): Promise<number> {
    const n = await this.base.pread(buf, offset);
    this.bytesRead += Math.max(0, n);
    return n;
  }
}

export async function surveyDisk(device: DumpSource, opts: SurveyOptions = {}): Promise<DiskSurvey> {
  const src = new CountingSource(device);
  const map = await readPartitionMap(src);
  let located: LocatedDump[];
  let searched: Partition[] = [];
  const limit = opts.maxBytesPerPartition ?? Infinity;
  const notes: string[] = [];
  const partial = (what: string, size: number, found: boolean) => {
    if (!found && size > limit) notes.push(`${what}: only the last ${sizeText(limit)} of ${sizeText(size)} searched; a larger dump needs a full scan`);
  };
  if (map.partitions.length === 0) {
    const hit = await locateInRange(src, 0, src.size, null, { signal: opts.signal, maxBytesPerPartition: limit });
    located = hit ? [hit] : [];
    partial('the whole device', src.size, hit !== null);
  } else {
    const r = await locateDumps(src, map, { allPartitions: opts.allPartitions, signal: opts.signal, maxBytesPerPartition: limit });
    located = r.dumps;
    searched = r.searched;
    for (const p of searched) partial(`partition ${p.id}`, p.size, located.some((d) => d.partition?.id === p.id));
  }
  const dumps: SurveyedDump[] = [];
  for (const d of located) {
    let details: DumpDetails | null = null;
    if (!opts.quick) {
      const start = d.partition?.start ?? 0;
      const size = d.partition ? Math.min(d.partition.size, Math.max(0, src.size - start)) : src.size;
      details = await inspectDump(new WindowSource(src, start, size), d.dumplo, { kernel: opts.kernel, signal: opts.signal });
    }
    dumps.push({ ...d, details, summary: dumpSummary(d, details) });
  }
  return { device: src.name, size: src.size, map, dumps, searched: searched.map((p) => p.id), bytesRead: src.bytesRead, notes };
}
