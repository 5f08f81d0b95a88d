// An LRU block cache in front of another DumpSource. Address translation does many tiny reads
// (8-byte page-table entries) that cluster in a few pages; without a cache each one is a
// syscall, or worse, a re-inflate of a gzip span.

import type { DumpSource, SourceKind } from '../source.ts';
import { preadFully } from '../source.ts';

export interface CachedSourceOptions {
  /** Cache granule in bytes (default 64 KiB). */
  blockSize?: number;
  /** Upper bound on cached bytes (default 32 MiB). */
  maxBytes?: number;
  /** Reads longer than this many blocks go straight to the inner source (default 4). */
  bypassBlocks?: number;
}

export interface CacheStats {
  hits: number;
  misses: number;
  bypassed: number;
}

export class CachedSource implements DumpSource {
  private readonly blockSize: number;
  private readonly maxBlocks: number;
  private readonly bypassBytes: number;
  /** Block index → its bytes (short only at EOF). Map order is LRU order, oldest first. */
  private readonly blocks = new Map<number, Promise<Uint8Array>>();
  readonly stats: CacheStats = { hits: 0, misses: 0, bypassed: 0 };

  constructor(
    readonly inner: DumpSource,
    opts: CachedSourceOptions = {},
  ) {
    this.blockSize = opts.blockSize ?? 64 * 1024;
    this.maxBlocks = Math.max(1, Math.floor((opts.maxBytes ?? 32 * 1024 * 1024) / this.blockSize));
    this.bypassBytes = this.blockSize * (opts.bypassBlocks ?? 4);
    if (!inner.pwrite) this.pwrite = undefined;
  }

  get name(): string {
    return this.inner.name;
  }

  get kind(): SourceKind {
    return this.inner.kind;
  }

  get size(): number {
    return this.inner.size;
  }

  async pread(buf: Uint8Array, offset: number): Promise<number> {
    if (buf.length > this.bypassBytes) {
      this.stats.bypassed++;
      return this.inner.pread(buf, offset);
    }
    let done = 0;
    while (done < buf.length) {
      const pos = offset + done;
      const index = Math.floor(pos / this.blockSize);
      const block = await this.block(index);
      const rel = pos - index * this.blockSize;
      if (rel >= block.length) break; // EOF
      const n = Math.min(buf.length - done, block.length - rel);
      buf.set(block.subarray(rel, rel + n), done);
      done += n;
      if (block.length < this.blockSize) break; // a short block is the end of the source
    }
    return done;
  }

  /** Writes go through to the inner source; cached copies of the touched blocks are dropped. */
  pwrite?: (buf: Uint8Array, offset: number) => Promise<number> = async (buf, offset) => {
    const oldSize = this.inner.size;
    this.invalidateWrite(offset, buf.length, oldSize);
    try {
      return await this.inner.pwrite!(buf, offset);
    } finally {
      // Again afterwards: a read may have re-cached old bytes while the write was in flight.
      this.invalidateWrite(offset, buf.length, oldSize);
    }
  };

  async close(): Promise<void> {
    this.invalidate();
    await this.inner.close?.();
  }

  /** Drop everything (e.g. after the underlying file changed behind our back). */
  invalidate(): void {
    this.blocks.clear();
  }

  /** Drop cached blocks overlapping [offset, offset + length). */
  invalidateRange(offset: number, length: number): void {
    const first = Math.floor(offset / this.blockSize);
    const last = Math.floor((offset + Math.max(length, 1) - 1) / this.blockSize);
    if (last - first > this.blocks.size) {
      for (const index of [...this.blocks.keys()]) if (index >= first && index <= last) this.blocks.delete(index);
      return;
    }
    for (let index = first; index <= last; index++) this.blocks.delete(index);
  }

  /** A write past the old end also changes the short last block (the gap reads as zeros now). */
  private invalidateWrite(offset: number, length: number, oldSize: number): void {
    const start = Math.min(offset, oldSize);
    this.invalidateRange(start, offset + length - start);
  }

  private block(index: number): Promise<Uint8Array> {
    const cached = this.blocks.get(index);
    if (cached) {
      this.stats.hits++;
      this.blocks.delete(index); // re-insert to mark as most recently used
      this.blocks.set(index, cached);
      return cached;
    }
    this.stats.misses++;
    const loading = this.load(index);
    this.blocks.set(index, loading);
    // A failed read must not stay cached.
    loading.catch(() => {
      if (this.blocks.get(index) === loading) this.blocks.delete(index);
    });
    this.evictOverflow();
    return loading;
  }

  private async load(index: number): Promise<Uint8Array> {
    const bytes = new Uint8Array(this.blockSize);
    const n = await preadFully(this.inner, bytes, index * this.blockSize);
    return n === bytes.length ? bytes : bytes.slice(0, n);
  }

  private evictOverflow(): void {
    while (this.blocks.size > this.maxBlocks) {
      const oldest = this.blocks.keys().next().value as number;
      this.blocks.delete(oldest);
    }
  }
}
