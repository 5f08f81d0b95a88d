// A window onto another source: bytes [start, start+length) of a disk seen as a device of its
// own, as NetBSD sees a partition (dumplo and --dump-offset then count from the partition's start).
// Closing is left to whoever opened the base: several windows may share it.

import type { DumpSource } from '../source.ts';

export class WindowSource implements DumpSource {
  readonly kind;
  readonly name: string;
  pwrite?: (buf: Uint8Array, offset: number) => Promise<number>;
  /** The base's fsync: a write through the window is on the medium when this resolves. */
  sync?: () => Promise<void>;
  preadEach?: (buf: Uint8Array, offsets: readonly number[], length: number) => Promise<number>;

  constructor(readonly base: DumpSource, readonly start: number, readonly length: number, name?: string) {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(length) || start < 0 || length < 0) {
      throw new RangeError(`window ${start}+${length} is not a byte range`);
    }
    this.kind = base.kind;
    this.name = name ?? `${base.name}@${start}`;
    if (base.pwrite) {
      const write = base.pwrite.bind(base);
      this.pwrite = async (buf, offset) => {
        if (offset < 0 || offset + buf.length > this.length) throw new RangeError(`write at ${offset}+${buf.length} leaves the partition (${this.length} bytes)`);
        return write(buf, this.start + offset);
      };
    }
    if (base.sync) this.sync = base.sync.bind(base);
    if (base.preadEach) {
      const gather = base.preadEach.bind(base);
      this.preadEach = async (buf, offsets, len) => {
        // Slots past the window's end are short, as pread's would be: stop before the first.
        let inside = 0;
        while (inside < offsets.length && offsets[inside]! >= 0 && offsets[inside]! + len <= this.length) inside++;
        if (inside === 0) return 0;
        return gather(buf, offsets.slice(0, inside).map((o) => this.start + o), len);
      };
    }
  }

  get size(): number {
    return this.length;
  }

  async pread(buf: Uint8Array, offset: number): Promise<number> {
    if (offset >= this.length) return 0;
    const n = Math.min(buf.length, this.length - offset);
    return this.base.pread(n === buf.length ? buf : buf.subarray(0, n), this.start + offset);
  }
}
