// A disk or image read as the disk it holds: what openSource opens (a device, a raw image, an E01
// or split raw image), or — for a gzip-compressed whole-disk image (disk.img.gz) — its uncompressed
// bytes, read with random access through the gzip checkpoint index (built in one pass, cached per
// user like a compressed core's) so partition maps, dumplo and --partition count in the disk's
// own offsets. A gzip image is read-only like the other images: nothing is written to it.

import { isGzip } from '../../core/sources/gzip-format.ts';
import { GzipSource } from '../../core/sources/gzip-source.ts';
import type { AbortSignalLike } from '../../core/sources/gzip-index.ts';
import { openSource, type NodeSource } from '../sources/node-source.ts';
import { imageSetOf, isImageSet, readOnlyImageError, type ImageSetSource } from '../sources/image-set.ts';
import { loadOrBuildGzipIndex } from './gzip-index-cache.ts';

export interface DiskSourceOptions {
  /** A gzip image refuses (read-only evidence); anything else opens as openSource opens it. */
  writable?: boolean;
  signal?: AbortSignalLike;
  onIndexProgress?: (done: number, total: number) => void;
}

/** True for a gzip whole-disk image opened by openDiskSource. */
export function isGzipImage(src: unknown): src is ImageSetSource {
  return typeof src === 'object' && src !== null && isImageSet(src as NodeSource) && (src as ImageSetSource).image.format === 'gzip';
}

/** Open `path` as a disk: a gzip file is the disk it holds (see the top of this file). */
export async function openDiskSource(path: string, opts: DiskSourceOptions = {}): Promise<NodeSource> {
  const raw = await openSource(path, { writable: opts.writable });
  try {
    if (raw.identity.mode !== 'file' || isImageSet(raw) || !(await isGzip(raw))) return raw;
    if (opts.writable) throw readOnlyImageError(path, 'gzip');
    const index = await loadOrBuildGzipIndex(raw, { onProgress: opts.onIndexProgress, signal: opts.signal });
    const gzip = new GzipSource(raw, index, { name: path });
    return imageSetOf(gzip, [raw], { format: 'gzip', files: [raw.identity.path], compressedSize: raw.size }, { ...raw.identity, size: gzip.size });
  } catch (e) {
    await raw.close().catch(() => undefined);
    throw e;
  }
}
