// The one way core/ touches bytes: a positioned-read interface that files, raw devices,
// gzip-compressed cores and in-memory test buffers all implement. core/ never imports node:fs.

/**
 * What kind of object the bytes come from, in NetBSD's terms. It decides libkvm's behaviour:
 * - 'file': a regular file; libkvm mmaps it, so a read past the end fails with EINVAL.
 * - 'chardev': a raw character device; fdalign = 512, unaligned reads go through a bounce buffer,
 *   and kvm_dump_inval zeroes a whole sector.
 * - 'blockdev': a block device; st_size is 0 so nothing is mapped and reads are plain preads.
 */
export type SourceKind = 'file' | 'chardev' | 'blockdev';

export interface DumpSource {
  /** Path or label, used in messages. */
  readonly name: string;
  readonly kind: SourceKind;
  /** Size in bytes (for devices: the device size where known, else 0). */
  readonly size: number;
  /**
   * pread(2): read up to buf.length bytes at offset. Returns the count (short only at EOF).
   * Offsets and lengths need not be aligned: adapters that need alignment (O_DIRECT) handle it.
   * Throws IoError (or a Node system error with .code) on failure.
   */
  pread(buf: Uint8Array, offset: number): Promise<number>;
  /**
   * Gather read: `length` bytes at each of `offsets` into consecutive slots of buf (slot i at
   * i × length). Returns how many leading slots were read whole; fewer when the source gave its
   * caller a turn (call again from there) or the next slot is short (EOF). Optional: for sources
   * where many small reads are cheap in one call (a file descriptor read in a loop), so a search
   * that needs one sector in eight need not read the other seven.
   */
  preadEach?(buf: Uint8Array, offsets: readonly number[], length: number): Promise<number>;
  /**
   * Sequential read through one reused buffer: the bytes from offset up to end, a piece of
   * buf.length at a time at the start of buf (shorter only at the end or EOF), each handed to
   * visit while it is still in the CPU cache. Returns the offset reached: less than end when the source gave its caller a
   * turn (call again from there), and `offset` itself at EOF. Optional: for file descriptors,
   * where a synchronous loop into a cache-sized buffer reads as fast as cat(1) does.
   */
  readThrough?(buf: Uint8Array, offset: number, end: number, visit: (piece: Uint8Array, at: number) => void): Promise<number>;
  /** pwrite(2), present only when the source was opened for writing. */
  pwrite?(buf: Uint8Array, offset: number): Promise<number>;
  /** fsync(2): written bytes are on the medium when this resolves (writable sources). */
  sync?(): Promise<void>;
  close?(): Promise<void>;
}

/** A stream that is written in order and never seeked (a file, a gzip stream, a hash). */
export interface ByteSink {
  /** Write all of chunk, or throw IoError / a Node system error. */
  write(chunk: Uint8Array): Promise<void>;
}

/** A DumpSource over bytes in memory: for tests, and for small headers. */
export class MemorySource implements DumpSource {
  readonly kind: SourceKind;
  constructor(
    private bytes: Uint8Array,
    readonly name = 'memory',
    kind: SourceKind = 'file',
    writable = true,
  ) {
    this.kind = kind;
    if (!writable) this.pwrite = undefined;
  }
  get size(): number {
    return this.bytes.length;
  }
  /** The current contents (writes are visible). */
  get contents(): Uint8Array {
    return this.bytes;
  }
  async pread(buf: Uint8Array, offset: number): Promise<number> {
    if (offset >= this.bytes.length) return 0;
    const n = Math.min(buf.length, this.bytes.length - offset);
    buf.set(this.bytes.subarray(offset, offset + n));
    return n;
  }
  pwrite?: (buf: Uint8Array, offset: number) => Promise<number> = async (buf, offset) => {
    const end = offset + buf.length;
    if (end > this.bytes.length) {
      const grown = new Uint8Array(end);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    this.bytes.set(buf, offset);
    return buf.length;
  };
}

/** A sink that collects everything written, for tests and for hashing small headers. */
export class MemorySink implements ByteSink {
  private chunks: Uint8Array[] = [];
  async write(chunk: Uint8Array): Promise<void> {
    this.chunks.push(chunk.slice());
  }
  bytes(): Uint8Array {
    const total = this.chunks.reduce((n, c) => n + c.length, 0);
    const out = new Uint8Array(total);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}

/** Read exactly as much as the source gives, looping over short reads until EOF. */
export async function preadFully(src: DumpSource, buf: Uint8Array, offset: number): Promise<number> {
  let done = 0;
  while (done < buf.length) {
    const n = await src.pread(buf.subarray(done), offset + done);
    if (n <= 0) break;
    done += n;
  }
  return done;
}

/**
 * `length` bytes at every offset into slot i × length of buf, through the source's preadEach
 * (which must exist). Returns how many leading slots were read whole: fewer only at a short slot.
 */
export async function preadEachFully(src: DumpSource, buf: Uint8Array, offsets: readonly number[], length: number): Promise<number> {
  if (!src.preadEach) throw new TypeError(`${src.name}: no gather read`);
  let done = 0;
  while (done < offsets.length) {
    const n = await src.preadEach(buf.subarray(done * length), offsets.slice(done), length);
    if (n > 0) {
      done += n;
      continue;
    }
    // Nothing read: decide the slot with a plain read (a short device read is not yet EOF).
    if ((await preadFully(src, buf.subarray(done * length, (done + 1) * length), offsets[done]!)) < length) break;
    done++;
  }
  return done;
}

/** The part of AbortSignal core/ uses (core has no DOM or Node types; a real AbortSignal fits). */
export interface CancelSignal {
  readonly aborted: boolean;
  throwIfAborted(): void;
}
