// Disk images made of several files, opened as the one disk they hold: EWF-E01 images (image.E01,
// image.E02, …; core/e01 parses them, node:zlib inflates their chunks) and split raw images
// (image.001, image.002, …). openSource() hands these out whenever it is given the first file, so
// every command, savecore and the app read them like any disk. Both are read-only evidence.

import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { IoError } from '../../core/errno.ts';
import { EwfError, EwfSource, isEwfSignature, segmentName, EWF_LIMITS, type EwfInfo } from '../../core/e01/ewf.ts';
import { ConcatSource } from '../../core/sources/concat.ts';
import type { DumpSource } from '../../core/source.ts';
import type { NodeSource, SourceIdentity } from './node-source.ts';

export interface ImageSetInfo {
  /** 'gzip': a gzip-compressed whole-disk image (main/session/disk-source.ts opens those). */
  format: 'e01' | 'split-raw' | 'gzip';
  /** The files, in order. */
  files: string[];
  ewf?: EwfInfo;
  /** A gzip image's compressed size. */
  compressedSize?: number;
}

export interface ImageSetSource extends NodeSource {
  readonly image: ImageSetInfo;
}

export function isImageSet(src: DumpSource): src is ImageSetSource {
  return 'image' in src && typeof (src as { image?: unknown }).image === 'object';
}

/** Names that make a multi-file image when the first file is opened. */
export function splitRawPart(first: string, n: number): string | null {
  const m = /\.(\d{3})$/.exec(first);
  if (!m || m[1] !== '001') return null;
  return first.slice(0, -3) + String(n).padStart(3, '0');
}

/** A multi-file image that cannot be opened (as asked): its message says why, beyond strerror. */
export class ImageSetError extends IoError {
  override name = 'ImageSetError';
}

/** The read-only refusal every write path shows for these images. */
export function readOnlyImageError(path: string, format: ImageSetInfo['format']): ImageSetError {
  const what = format === 'e01' ? 'an E01 (Expert Witness) image' : format === 'gzip' ? 'a gzip-compressed image' : 'a split raw image';
  return new ImageSetError('EROFS', `${path}: ${what} is read-only evidence: nothing is written to it (inval and savecore's invalidation refuse; save the dump and keep the image as it is)`);
}

/** node:zlib for EWF chunks: one zlib stream each, never more than `limit` bytes out. */
function nodeInflate(data: Uint8Array, limit: number): Uint8Array {
  const out = inflateSync(data, { maxOutputLength: limit });
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

class ImageSet implements ImageSetSource {
  readonly kind = 'file' as const;
  constructor(
    private readonly inner: DumpSource,
    private readonly files: NodeSource[],
    readonly image: ImageSetInfo,
    readonly identity: SourceIdentity,
  ) {}

  get name(): string {
    return this.identity.path;
  }

  get size(): number {
    return this.inner.size;
  }

  pread(buf: Uint8Array, offset: number): Promise<number> {
    return this.inner.pread(buf, offset);
  }

  async close(): Promise<void> {
    for (const f of this.files) await f.close().catch(() => undefined);
  }

  /** The stored MD5/SHA-1 of an E01 against the media as read now. */
  async verify(onProgress?: (done: number, total: number) => void, signal?: AbortSignal): Promise<ImageVerification> {
    return verifyImage(this, onProgress, signal);
  }
}

/** An image read through `inner`, owning `files` (closed with it): E01, split raw, or a gzip image. */
export function imageSetOf(inner: DumpSource, files: NodeSource[], image: ImageSetInfo, identity: SourceIdentity): ImageSetSource {
  return new ImageSet(inner, files, image, identity);
}

export interface ImageVerification {
  md5: { stored: string | null; computed: string };
  sha1: { stored: string | null; computed: string };
  /** True when every stored digest matches; null when the image stores none. */
  ok: boolean | null;
}

export async function verifyImage(src: ImageSetSource, onProgress?: (done: number, total: number) => void, signal?: AbortSignal): Promise<ImageVerification> {
  const md5 = createHash('md5');
  const sha1 = createHash('sha1');
  const block = new Uint8Array(4 << 20);
  for (let at = 0; at < src.size; ) {
    signal?.throwIfAborted();
    const n = await src.pread(block.subarray(0, Math.min(block.length, src.size - at)), at);
    if (n <= 0) throw new IoError('EIO', `${src.name}: the image ends at ${at} of ${src.size} bytes`);
    md5.update(block.subarray(0, n));
    sha1.update(block.subarray(0, n));
    at += n;
    onProgress?.(at, src.size);
  }
  const stored = { md5: src.image.ewf?.md5 ?? null, sha1: src.image.ewf?.sha1 ?? null };
  const computed = { md5: md5.digest('hex'), sha1: sha1.digest('hex') };
  const checks = (['md5', 'sha1'] as const).filter((k) => stored[k] !== null).map((k) => stored[k] === computed[k]);
  return {
    md5: { stored: stored.md5, computed: computed.md5 },
    sha1: { stored: stored.sha1, computed: computed.sha1 },
    ok: checks.length === 0 ? null : checks.every(Boolean),
  };
}

/**
 * `first` is open (read-only): when it is an E01 segment or the .001 of a split raw image, the whole
 * image; otherwise null. `open` opens further files the way first was opened.
 */
export async function openImageSet(path: string, first: NodeSource, open: (p: string) => Promise<NodeSource>): Promise<ImageSetSource | null> {
  if (first.identity.mode !== 'file') return null;
  const head = new Uint8Array(8);
  const n = first.size >= 8 ? await first.pread(head, 0) : 0;
  if (n === 8 && isEwfSignature(head)) return openEwf(path, first, open);
  if (splitRawPart(path, 2) && existsSync(splitRawPart(path, 2)!)) return openSplitRaw(path, first, open);
  return null;
}

async function openRest(first: NodeSource, names: (n: number) => string | null, open: (p: string) => Promise<NodeSource>, max: number): Promise<NodeSource[]> {
  const files = [first];
  try {
    for (let n = 2; n <= max; n++) {
      const name = names(n);
      if (!name || !existsSync(name)) break;
      files.push(await open(name));
    }
  } catch (e) {
    for (const f of files.slice(1)) await f.close().catch(() => undefined);
    throw e;
  }
  return files;
}

async function openEwf(path: string, first: NodeSource, open: (p: string) => Promise<NodeSource>): Promise<ImageSetSource> {
  if (!/\.[EeSs]01$/.test(path)) throw new ImageSetError('EINVAL', `${path}: an EWF segment file; open the image by its first segment (the .E01 file)`);
  const files = await openRest(first, (n) => segmentName(path, n), open, EWF_LIMITS.segments);
  try {
    const ewf = await EwfSource.open(files, { inflate: nodeInflate, name: path });
    return new ImageSet(ewf, files, { format: 'e01', files: files.map((f) => f.name), ewf: ewf.info }, { ...first.identity, size: ewf.size });
  } catch (e) {
    for (const f of files.slice(1)) await f.close().catch(() => undefined);
    if (e instanceof EwfError) throw new ImageSetError('EINVAL', `${path}: not a readable E01 image: ${e.message}`);
    throw e;
  }
}

async function openSplitRaw(path: string, first: NodeSource, open: (p: string) => Promise<NodeSource>): Promise<ImageSetSource> {
  const files = await openRest(first, (n) => splitRawPart(path, n), open, 999);
  const concat = new ConcatSource(files, path);
  return new ImageSet(concat, files, { format: 'split-raw', files: files.map((f) => f.name) }, { ...first.identity, size: concat.size });
}
