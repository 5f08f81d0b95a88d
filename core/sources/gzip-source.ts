// Random access into gzip files (RFC 1952) without re-decompressing from the start for every
// read: GzipSource takes the checkpoint index buildGzipIndex (gzip-index.ts) records in one
// streaming pass, and inflates forward from the nearest checkpoint only as far as a read needs,
// keeping recently decoded output for re-reads and sequential reads.

import { IoError } from '../errno.ts';
import type { DumpSource } from '../source.ts';
import { asIoError, GzipWalker, type GzipCheckpoint } from './gzip-format.ts';
import { buildGzipIndex, type GzipIndex, type GzipIndexOptions } from './gzip-index.ts';

export interface GzipSourceOptions {
  /** Name used in messages (default: the compressed source's name). */
  name?: string;
  /** Bytes of recently decoded output kept for re-reads and sequential reads (default 8 MiB). */
  cacheBytes?: number;
}

interface DecodedSpan {
  readonly start: number;
  readonly bytes: Uint8Array;
}

/** Index a gzip file and open it for random access. */
export async function openGzipSource(
  compressed: DumpSource,
  opts: GzipIndexOptions & GzipSourceOptions = {},
): Promise<GzipSource> {
  return new GzipSource(compressed, await buildGzipIndex(compressed, opts), opts);
}

/** The uncompressed contents of a gzip file as a read-only DumpSource (kind 'file'). */
export class GzipSource implements DumpSource {
  readonly kind = 'file' as const;
  readonly name: string;
  readonly size: number;
  private readonly cacheBytes: number;
  /** Recently decoded output, oldest first. */
  private recent: DecodedSpan[] = [];
  private recentBytes = 0;
  private walker: GzipWalker | null = null;
  /** Reads share one decoder, so they run one at a time. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly compressed: DumpSource,
    readonly index: GzipIndex,
    opts: GzipSourceOptions = {},
  ) {
    this.name = opts.name ?? compressed.name;
    this.size = index.size;
    this.cacheBytes = Math.max(opts.cacheBytes ?? 8 << 20, 2 << 20);
  }

  pread(buf: Uint8Array, offset: number): Promise<number> {
    const result = this.queue.then(() => this.readSerialized(buf, offset));
    this.queue = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    this.walker = null;
    this.recent = [];
    await this.compressed.close?.();
  }

  private async readSerialized(buf: Uint8Array, offset: number): Promise<number> {
    try {
      if (!Number.isSafeInteger(offset) || offset < 0) {
        throw new IoError('EINVAL', `${this.name}: invalid read offset ${offset}`);
      }
      const want = Math.max(0, Math.min(buf.length, this.size - offset));
      let done = 0;
      while (done < want) {
        const copied = this.copyFromRecent(buf.subarray(done, want), offset + done);
        if (copied > 0) done += copied;
        else await this.decodeSpanCovering(offset + done);
      }
      return want;
    } catch (e) {
      throw asIoError(this.compressed, e);
    }
  }

  private copyFromRecent(dest: Uint8Array, pos: number): number {
    for (let i = this.recent.length - 1; i >= 0; i--) {
      const span = this.recent[i];
      const rel = pos - span.start;
      if (rel >= 0 && rel < span.bytes.length) {
        const n = Math.min(dest.length, span.bytes.length - rel);
        dest.set(span.bytes.subarray(rel, rel + n));
        return n;
      }
    }
    return 0;
  }

  private remember(start: number, bytes: Uint8Array): void {
    this.recent.push({ start, bytes: bytes.slice() });
    this.recentBytes += bytes.length;
    while (this.recentBytes > this.cacheBytes && this.recent.length > 1) {
      this.recentBytes -= this.recent.shift()!.bytes.length;
    }
  }

  /** Last checkpoint at or before pos (binary search). */
  private checkpointFor(pos: number): GzipCheckpoint {
    const cps = this.index.checkpoints;
    let lo = 0;
    let hi = cps.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (cps[mid].out <= pos) lo = mid;
      else hi = mid - 1;
    }
    return cps[lo];
  }

  /** Reuse the running decoder when it is at or before pos and no checkpoint is closer. */
  private async decoderFor(pos: number): Promise<GzipWalker> {
    const cp = this.checkpointFor(pos);
    const current = this.walker;
    if (current && current.emitted <= pos && current.emitted >= cp.out) return current;
    const walker = new GzipWalker(this.compressed, { verify: false });
    this.walker = null;
    await walker.startAt(cp);
    this.walker = walker;
    return walker;
  }

  private async decodeSpanCovering(pos: number): Promise<void> {
    try {
      await this.decodeForwardTo(pos);
    } catch (e) {
      this.walker = null; // its state is unknown after a failure; restart from a checkpoint
      throw e;
    }
  }

  private async decodeForwardTo(pos: number): Promise<void> {
    const walker = await this.decoderFor(pos);
    for (;;) {
      const start = walker.emitted;
      const chunk = await walker.next();
      if (chunk === null) {
        throw new IoError('EIO', `${this.name}: gzip data ended at ${start}, before offset ${pos} (file changed?)`);
      }
      if (start + chunk.length > pos) {
        this.remember(start, chunk);
        return;
      }
    }
  }
}
