// One zlib stream (RFC 1950: a 2-byte header, DEFLATE data, Adler-32 of the output) inflated in
// memory by core's own DEFLATE decoder. EWF stores each compressed chunk as one such stream. Main
// may inject node:zlib instead (faster); this one keeps core usable on its own and in tests.

import { InflateError, Inflater, NEED_INPUT, OUTPUT_FULL, STREAM_END } from '../sources/inflate.ts';

/** Inflate `data` into at most `limit` bytes; a stream that would give more is an error. */
export type InflateFn = (data: Uint8Array, limit: number) => Uint8Array | Promise<Uint8Array>;

export function adler32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let a = 1;
  let b = 0;
  const NMAX = 5552; // the most bytes before the sums can overflow 2^31 (zlib's bound)
  for (let i = start; i < end; ) {
    const stop = Math.min(end, i + NMAX);
    for (; i < stop; i++) {
      a += bytes[i];
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

export function inflateZlib(data: Uint8Array, limit: number): Uint8Array {
  if (data.length < 6) throw new InflateError(`zlib stream of ${data.length} bytes is too short`, 0);
  const cmf = data[0];
  const flg = data[1];
  if ((cmf & 0x0f) !== 8 || cmf >> 4 > 7) throw new InflateError(`zlib header 0x${cmf.toString(16)}: not DEFLATE with a window of at most 32 KiB`, 0);
  if (((cmf << 8) | flg) % 31 !== 0) throw new InflateError('zlib header check bits are wrong', 8);
  if (flg & 0x20) throw new InflateError('zlib preset dictionary (FDICT) is not used by EWF', 8);
  const inf = new Inflater();
  inf.resetInput(2);
  const space = inf.inputSpace(data.length - 2);
  space.set(data.subarray(2));
  inf.inputWritten(data.length - 2, true);
  inf.startStream();
  const out = new Uint8Array(limit);
  let n = 0;
  for (;;) {
    const status = inf.run();
    const piece = inf.takeOutput();
    if (n + piece.length > limit) throw new InflateError(`inflates to more than ${limit} bytes`, inf.bitPosition());
    out.set(piece, n);
    n += piece.length;
    if (status === STREAM_END) break;
    if (status === NEED_INPUT) throw new InflateError('stream ends before its last block', inf.bitPosition());
    if (status !== OUTPUT_FULL && status !== 2) throw new InflateError(`unexpected decoder state ${status}`, inf.bitPosition());
  }
  inf.releaseBits();
  if (inf.bytesAvailable() < 4) throw new InflateError('no Adler-32 after the DEFLATE data', inf.bitPosition());
  const t = inf.peekBytes(4);
  const stored = ((t[0] << 24) | (t[1] << 16) | (t[2] << 8) | t[3]) >>> 0;
  const result = out.subarray(0, n);
  const computed = adler32(result);
  if (stored !== computed) throw new InflateError(`Adler-32 is 0x${stored.toString(16)}, the data gives 0x${computed.toString(16)}`, inf.bitPosition());
  return result;
}
