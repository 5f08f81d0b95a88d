// What a scan reads: the device or image itself, or — for a gzip file (a compressed image of a
// device, as the bundled sample is) — its uncompressed bytes through the same random-access
// source the rest of the workbench reads, so offsets and progress are those of the device.

import type { DumpSource } from '../../core/source.ts';
import type { AbortSignalLike } from '../../core/sources/gzip-index.ts';
import { isGzipImage, openDiskSource } from './disk-source.ts';

export interface ScanSource {
  source: DumpSource;
  compressed: boolean;
  close(): Promise<void>;
}

export async function openScanSource(path: string, opts: { signal?: AbortSignalLike; onIndexProgress?: (done: number, total: number) => void } = {}): Promise<ScanSource> {
  const source = await openDiskSource(path, opts);
  return { source, compressed: isGzipImage(source), close: () => source.close() };
}
