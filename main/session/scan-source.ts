// What scan reads: the same random-access view of a file every other reader gets. A gzip-compressed
// image is indexed (cached per user) and scanned over its decompressed bytes, so offsets and
// progress are those of the device image inside, not of the compressed file.

import type { CancelSignal, DumpSource } from '../../core/source.ts';
import { isGzip } from '../../core/sources/gzip-format.ts';
import { GzipSource } from '../../core/sources/gzip-source.ts';
import { openSource } from '../sources/node-source.ts';
import { loadOrBuildGzipIndex } from './gzip-index-cache.ts';

export interface ScanSource {
  /** The bytes to scan (decompressed for .gz). */
  src: DumpSource;
  compressed: boolean;
  close(): Promise<void>;
}

export interface ScanSourceOptions {
  /** Indexing a compressed image: compressed bytes read of the file's size. */
  onIndexProgress?: (done: number, total: number) => void;
  signal?: CancelSignal;
}

export async function openScanSource(path: string, opts: ScanSourceOptions = {}): Promise<ScanSource> {
  const raw = await openSource(path);
  try {
    if (!(await isGzip(raw))) return { src: raw, compressed: false, close: () => raw.close() };
    const index = await loadOrBuildGzipIndex(raw, { onProgress: opts.onIndexProgress, signal: opts.signal });
    return { src: new GzipSource(raw, index), compressed: true, close: () => raw.close() };
  } catch (e) {
    await raw.close().catch(() => undefined);
    throw e;
  }
}
