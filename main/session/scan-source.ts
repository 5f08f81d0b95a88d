// What a scan reads: the device or image itself, or — for a gzip file (a compressed image of a
// device, as the bundled sample is) — its uncompressed bytes through the same random-access
// source the rest of the workbench reads, so offsets and progress are those of the device.

import { isGzip } from '../../core/sources/gzip-format.ts';
import { GzipSource } from '../../core/sources/gzip-source.ts';
import type { DumpSource } from '../../core/source.ts';
import { openSource } from '../sources/node-source.ts';
import type { AbortSignalLike } from '../../core/sources/gzip-index.ts';
import { loadOrBuildGzipIndex } from './gzip-index-cache.ts';

export interface ScanSource {
  source: DumpSource;
  compressed: boolean;
  close(): Promise<void>;
}

export async function openScanSource(path: string, opts: { signal?: AbortSignalLike; onIndexProgress?: (done: number, total: number) => void } = {}): Promise<ScanSource> {
  const raw = await openSource(path);
  try {
    if (!(await isGzip(raw))) return { source: raw, compressed: false, close: () => raw.close() };
    const index = await loadOrBuildGzipIndex(raw, { onProgress: opts.onIndexProgress, signal: opts.signal });
    return { source: new GzipSource(raw, index), compressed: true, close: () => raw.close() };
  } catch (e) {
    await raw.close().catch(() => undefined);
    throw e;
  }
}
