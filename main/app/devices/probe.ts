// The cheap "is there a dump here?" check the device list shows: scan only the first 64 KiB of a
// device for a CPU segment header. That finds dumps in images cut at dumplo and partitions made
// for the dump; on a swap partition NetBSD's cpu_dumpconf puts the dump at the END
// (dumplo = size - header - memory), which no bounded probe can locate without knowing the
// memory size, so the list offers a whole-device Scan for those.

import { errnoOf } from '../../../core/errno.ts';
import { scanForDumps } from '../../../core/scan.ts';
import type { DumpSource } from '../../../core/source.ts';
import type { HeaderProbe } from '../../../contract/results.ts';
import { openSource } from '../../sources/node-source.ts';
import { isPermissionError, permissionHint } from '../permissions.ts';

export const PROBE_WINDOW = 64 * 1024;
const PROBE_TIMEOUT_MS = 3000;

/** A view of the first `limit` bytes of a source. */
export class HeadWindow implements DumpSource {
  readonly name: string;
  readonly kind: DumpSource['kind'];
  readonly size: number;
  constructor(private readonly src: DumpSource, limit: number) {
    this.name = src.name;
    this.kind = src.kind;
    this.size = src.size > 0 ? Math.min(src.size, limit) : limit;
  }
  pread(buf: Uint8Array, offset: number): Promise<number> {
    if (offset >= this.size) return Promise.resolve(0);
    return this.src.pread(buf.subarray(0, Math.min(buf.length, this.size - offset)), offset);
  }
}

export async function probeSource(src: DumpSource): Promise<HeaderProbe[]> {
  const found = await scanForDumps(new HeadWindow(src, PROBE_WINDOW), { chunkSize: PROBE_WINDOW });
  return found.map((c) => ({ offset: c.offset, machine: c.machine, segments: c.segments, memoryBytes: c.memoryBytes }));
}

export interface ProbeOutcome {
  readable: boolean;
  accessHint: string | null;
  headers: HeaderProbe[];
  /** The size the opened device reports (0 when unreadable): fills in listings that lack one. */
  size: number;
}

/** Open read-only, probe, close; permission problems become a hint instead of an error. */
export async function probeDevice(path: string): Promise<ProbeOutcome> {
  let src;
  try {
    src = await openSource(path);
  } catch (e) {
    return { readable: false, accessHint: isPermissionError(e) ? permissionHint(path, process.platform, errnoOf(e)) : (e as Error).message, headers: [], size: 0 };
  }
  try {
    const timeout = new Promise<HeaderProbe[]>((resolve) => setTimeout(() => resolve([]), PROBE_TIMEOUT_MS).unref());
    return { readable: true, accessHint: null, headers: await Promise.race([probeSource(src), timeout]), size: src.size };
  } catch {
    return { readable: true, accessHint: null, headers: [], size: src.size };
  } finally {
    await src.close();
  }
}
