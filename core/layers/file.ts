// The dump-file offset space: strict reads of the source itself. Unlike libkvm's _kvm_pread (a
// raw character device's failed read returns the stale bounce buffer as success, spec 4.4), a
// failed read here is a fault with its errno and a short read is an EOF fault: never bytes that
// were not read.

import { errnoOf, strerror } from '../errno.ts';
import type { DumpSource } from '../source.ts';
import { hex, StrictReadBuilder, type ReadTarget } from './faults.ts';
import type { StrictRead } from './types.ts';

/** A failed read larger than this is retried in pieces of this size, so one bad sector does not hide a whole run. */
const RETRY_PIECE = 4096;

/** Offsets at or above this cannot be addressed exactly by a JavaScript number. */
const MAX_OFFSET = Number.MAX_SAFE_INTEGER;

export interface FileSpace {
  /** The source's size as it reports it (0 for a device whose size is unknown). */
  readonly size: number;
  read(offset: number, length: number): Promise<StrictRead>;
}

/** Strict reads of a source at absolute file offsets. */
export function fileSpace(source: DumpSource): FileSpace {
  return {
    get size() {
      return source.size;
    },
    read: (offset, length) => readSourceStrict(source, offset, length),
  };
}

/**
 * Read [offset, offset + length) of the source: bytes where it answered, an 'eof' fault from
 * where it ended, an 'io' fault (with errno) where it failed.
 */
export async function readSourceStrict(source: DumpSource, offset: number, length: number): Promise<StrictRead> {
  const out = new StrictReadBuilder(length);
  await readInto(source, out, offset, 0, length);
  return out.finish();
}

/**
 * Read length bytes at file offset `offset` into out.data at `at`, recording faults there.
 * Exported for the physical layer, which reads many runs into one answer.
 */
export async function readInto(source: DumpSource, out: ReadTarget, offset: number, at: number, length: number): Promise<void> {
  if (length <= 0) return;
  if (!Number.isSafeInteger(offset) || offset < 0 || offset + length > MAX_OFFSET) {
    out.fault({ offset: at, length, kind: 'eof', reason: `file offset ${hex(offset)} is beyond any source`, address: BigInt(Math.max(0, offset)) });
    return;
  }
  const dest = out.data.subarray(at, at + length);
  let done = 0;
  try {
    while (done < length) {
      const n = await source.pread(dest.subarray(done), offset + done);
      if (n <= 0) break;
      done += n;
    }
  } catch (e) {
    dest.fill(0, done);
    if (length - done > RETRY_PIECE) {
      // Narrow the failure down to the pieces that really fail.
      for (let p = done; p < length; p += RETRY_PIECE) {
        await readInto(source, out, offset + p, at + p, Math.min(RETRY_PIECE, length - p));
      }
      return;
    }
    const errno = errnoOf(e);
    out.fault({
      offset: at + done, length: length - done, kind: 'io', errno, address: BigInt(offset + done),
      reason: `reading ${source.name} at file offset ${hex(offset + done)} failed: ${strerror(errno)}`,
    });
    return;
  }
  if (done < length) {
    out.fault({
      offset: at + done, length: length - done, kind: 'eof', address: BigInt(offset + done),
      reason: `${source.name} ends at file offset ${hex(offset + done)}`,
    });
  }
}
