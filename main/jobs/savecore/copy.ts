// Streaming reads of the dump region with read-ahead: several block reads are outstanding while
// the consumer hashes, compresses or writes the previous ones, so the device never waits for the
// disk we write to. Memory use is depth × blockSize.

import { preadFully, type DumpSource } from '../../../core/source.ts';

export interface BlockReadError {
  kind: 'eof' | 'error';
  /** Offset of the failed block. */
  offset: number;
  error?: unknown;
}

export class DumpReadFailure extends Error {
  constructor(readonly detail: BlockReadError) {
    super(detail.kind === 'eof' ? 'EOF on dump device' : String((detail.error as Error)?.message ?? detail.error));
  }
}

/**
 * Yield `length` bytes from `offset` in blocks of `blockSize`, each a new buffer from `alloc`; a
 * short read throws DumpReadFailure.
 */
export async function* readRegion(
  src: DumpSource, offset: number, length: number, blockSize: number, depth = 4, signal?: AbortSignal,
  alloc: (size: number) => Uint8Array = (size) => new Uint8Array(size),
): AsyncGenerator<Uint8Array> {
  const ahead: { at: number; p: Promise<Uint8Array> }[] = [];
  let next = 0;
  const issue = () => {
    const at = next;
    const size = Math.min(blockSize, length - at);
    next += size;
    const buf = alloc(size);
    const p = preadFully(src, buf, offset + at).then(
      (n) => {
        if (n !== size) throw new DumpReadFailure({ kind: 'eof', offset: offset + at + n });
        return buf;
      },
      (e) => {
        throw e instanceof DumpReadFailure ? e : new DumpReadFailure({ kind: 'error', offset: offset + at, error: e });
      },
    );
    p.catch(() => undefined); // consumed in order below
    ahead.push({ at, p });
  };
  try {
    while (next < length && ahead.length < depth) issue();
    while (ahead.length > 0) {
      signal?.throwIfAborted();
      const block = await ahead.shift()!.p;
      if (next < length) issue();
      yield block;
    }
  } finally {
    // Let outstanding reads settle before the caller closes the source.
    await Promise.allSettled(ahead.map((a) => a.p));
  }
}
