// The one-pass checkpoint index over a gzip file (the zlib "zran" technique): a single streaming
// pass verifies every member and records checkpoints every few MiB of output, each holding the
// compressed bit offset of a DEFLATE block boundary and the 32 KiB of history needed to resume
// there. GzipSource (gzip-source.ts) reads through it. The pass reports progress and can be
// cancelled, since a large dump takes a while.

import { IoError } from '../errno.ts';
import type { CancelSignal, DumpSource } from '../source.ts';
import { asIoError, GzipWalker, type GzipCheckpoint } from './gzip-format.ts';

export interface GzipIndex {
  readonly compressedSize: number;
  /** The true uncompressed size (decoded, not ISIZE, which is only the size mod 2^32). */
  readonly size: number;
  readonly members: number;
  readonly spanBytes: number;
  /** Sorted by `out`; the first is always { out: 0, inBit: 0, memberStart: true }. */
  readonly checkpoints: readonly GzipCheckpoint[];
  /** Non-fatal oddities, e.g. trailing garbage that gunzip would also ignore. */
  readonly warnings: readonly string[];
}

/** The one cancel signal type of core (an AbortSignal fits). */
export type AbortSignalLike = CancelSignal;

export interface GzipIndexOptions {
  /** Record a checkpoint every ~spanBytes of uncompressed output (default 4 MiB). */
  spanBytes?: number;
  /** Called after each compressed chunk is read: (compressed bytes read, compressed size). */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignalLike;
}

export const DEFAULT_SPAN_BYTES = 4 << 20;

function throwIfAborted(src: DumpSource, signal: AbortSignalLike | undefined): void {
  if (signal?.aborted) throw new IoError('ECANCELED', `${src.name}: gzip indexing canceled`);
}

/**
 * One streaming pass over a gzip file in bounded memory: verifies every member (CRC-32, ISIZE),
 * measures the true uncompressed size, and records resume checkpoints about every spanBytes.
 * Throws IoError: EIO for corrupt data (message names the compressed offset), ECANCELED on abort.
 */
export async function buildGzipIndex(compressed: DumpSource, opts: GzipIndexOptions = {}): Promise<GzipIndex> {
  const spanBytes = Math.max(1, opts.spanBytes ?? DEFAULT_SPAN_BYTES);
  const checkpoints: GzipCheckpoint[] = [{ out: 0, inBit: 0, memberStart: true, window: new Uint8Array(0) }];
  let members = 0;
  const dueForCheckpoint = (out: number) => out - checkpoints[checkpoints.length - 1].out >= spanBytes;
  const walker = new GzipWalker(compressed, {
    verify: true,
    onBlockEnd: (w) => {
      if (dueForCheckpoint(w.produced)) {
        checkpoints.push({ out: w.produced, inBit: w.bitPosition(), memberStart: false, window: w.window() });
      }
    },
    onMemberStart: (w, headerOffset) => {
      members++;
      if (dueForCheckpoint(w.produced)) {
        checkpoints.push({ out: w.produced, inBit: headerOffset * 8, memberStart: true, window: new Uint8Array(0) });
      }
    },
    onRead: (done) => opts.onProgress?.(Math.min(done, compressed.size || done), compressed.size),
  });
  try {
    throwIfAborted(compressed, opts.signal);
    await walker.startAt(checkpoints[0]);
    while ((await walker.next()) !== null) throwIfAborted(compressed, opts.signal);
  } catch (e) {
    throw asIoError(compressed, e);
  }
  return {
    compressedSize: compressed.size,
    size: walker.emitted,
    members,
    spanBytes,
    checkpoints,
    warnings: walker.warnings,
  };
}
