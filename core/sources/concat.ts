// Several sources read as one, end to end: a split raw image (image.001, image.002, …, as dd | split
// and forensic imagers write them) seen as the disk it was cut from. Read-only.

import { IoError } from '../errno.ts';
import type { DumpSource, SourceKind } from '../source.ts';

export class ConcatSource implements DumpSource {
  readonly kind: SourceKind = 'file';
  readonly size: number;
  private readonly starts: number[] = [];

  constructor(
    private readonly parts: DumpSource[],
    readonly name: string = parts[0]?.name ?? 'concat',
  ) {
    if (parts.length === 0) throw new RangeError('no parts');
    let at = 0;
    for (const p of parts) {
      this.starts.push(at);
      at += p.size;
    }
    if (!Number.isSafeInteger(at)) throw new RangeError(`parts add up to ${at} bytes`);
    this.size = at;
  }

  async pread(buf: Uint8Array, offset: number): Promise<number> {
    if (!Number.isSafeInteger(offset) || offset < 0) throw new IoError('EINVAL', `${this.name}: read at offset ${offset}`);
    const want = Math.min(buf.length, Math.max(0, this.size - offset));
    let done = 0;
    let i = this.partAt(offset);
    while (done < want && i < this.parts.length) {
      const part = this.parts[i];
      const from = offset + done - this.starts[i];
      const n = Math.min(want - done, part.size - from);
      if (n > 0) {
        let got = 0;
        while (got < n) {
          const r = await part.pread(buf.subarray(done + got, done + n), from + got);
          if (r <= 0) throw new IoError('EIO', `${part.name}: ends at ${from + got} bytes, it had ${part.size} when the image was opened`);
          got += r;
        }
        done += n;
      }
      i++;
    }
    return done;
  }

  private partAt(offset: number): number {
    let lo = 0;
    let hi = this.parts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}
