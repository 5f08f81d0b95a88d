// Parallel gzip for -z: the output is cut into independent chunks, each compressed on a worker
// thread to a complete gzip member, and the members are written in order. A multi-member gzip
// file is what gzip(1) and node:zlib read as one stream (RFC 1952 2.2), so the result
// decompresses to exactly the bytes savecore would have written uncompressed.

import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { evalWorker } from './eval-worker.ts';

// Inline CommonJS, run by evalWorker.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const zlib = require('node:zlib');
parentPort.on('message', ({ id, input, level }) => {
  try {
    const out = zlib.gzipSync(input, { level });
    parentPort.postMessage({ id, output: out });
  } catch (e) {
    parentPort.postMessage({ id, error: String(e && e.message || e) });
  }
});
`;

interface Pending {
  resolve(out: Uint8Array): void;
  reject(e: Error): void;
}

/** A fixed set of compression threads; each job is one gzip member. */
export class GzipPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: { id: number; input: Uint8Array }[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failure: Error | null = null;

  constructor(
    private readonly level: number,
    size = availableParallelism(),
  ) {
    for (let i = 0; i < Math.max(1, size); i++) {
      const w = evalWorker(WORKER_SOURCE);
      w.on('message', (msg: { id: number; output?: Uint8Array; error?: string }) => this.onDone(w, msg));
      w.on('error', (e) => this.failAll(e));
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  /** Compress one chunk to a gzip member. The chunk's buffer is transferred (do not reuse it). */
  compress(input: Uint8Array): Promise<Uint8Array> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const p = new Promise<Uint8Array>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.queue.push({ id, input });
    this.pump();
    return p;
  }

  async close(): Promise<void> {
    this.failAll(new Error('compression cancelled'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private pump(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const w = this.idle.pop()!;
      const job = this.queue.shift()!;
      const owned = job.input.byteOffset === 0 && job.input.byteLength === job.input.buffer.byteLength;
      const input = owned ? job.input : job.input.slice();
      w.postMessage({ id: job.id, input, level: this.level }, [input.buffer as ArrayBuffer]);
    }
  }

  private onDone(w: Worker, msg: { id: number; output?: Uint8Array; error?: string }): void {
    const p = this.pending.get(msg.id);
    this.pending.delete(msg.id);
    this.idle.push(w);
    if (p) {
      if (msg.error !== undefined) p.reject(new Error(`gzip: ${msg.error}`));
      else p.resolve(new Uint8Array(msg.output!.buffer, msg.output!.byteOffset, msg.output!.byteLength));
    }
    this.pump();
  }

  private failAll(e: Error): void {
    this.failure ??= e;
    this.queue.length = 0;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}

export interface ByteWriter {
  write(chunk: Uint8Array): Promise<void>;
}

/**
 * A sink that gathers bytes into chunks of `chunkSize`, compresses them in parallel and writes
 * the members in order to `out`. At most `depth` chunks are in flight, so memory stays bounded
 * while both cores compress and the file is written.
 */
export class ParallelGzipWriter implements ByteWriter {
  private buf: Uint8Array;
  private fill = 0;
  private readonly inflight: Promise<Uint8Array>[] = [];
  private writing: Promise<void> = Promise.resolve();
  /** Uncompressed bytes accepted. */
  bytesIn = 0;

  constructor(
    private readonly pool: GzipPool,
    private readonly out: ByteWriter,
    private readonly chunkSize: number,
    private readonly depth = pool.size * 2 + 1,
  ) {
    this.buf = new Uint8Array(chunkSize);
  }

  async write(chunk: Uint8Array): Promise<void> {
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(chunk.length - off, this.chunkSize - this.fill);
      this.buf.set(chunk.subarray(off, off + n), this.fill);
      this.fill += n;
      off += n;
      if (this.fill === this.chunkSize) await this.submit();
    }
    this.bytesIn += chunk.length;
  }

  /** Compress what is left and wait until every member is written. */
  async end(): Promise<void> {
    if (this.fill > 0) await this.submit();
    while (this.inflight.length > 0) await this.drainOne();
    await this.writing;
  }

  private async submit(): Promise<void> {
    const input = this.fill === this.chunkSize ? this.buf : this.buf.slice(0, this.fill);
    this.buf = new Uint8Array(this.chunkSize);
    this.fill = 0;
    const p = this.pool.compress(input);
    p.catch(() => undefined); // observed in drainOne; avoid an unhandled rejection meanwhile
    this.inflight.push(p);
    while (this.inflight.length >= this.depth) await this.drainOne();
  }

  /** Hand the oldest member to the file writer; the write overlaps further compression. */
  private async drainOne(): Promise<void> {
    const member = await this.inflight.shift()!;
    await this.writing;
    this.writing = this.out.write(member);
    this.writing.catch(() => undefined);
  }
}
