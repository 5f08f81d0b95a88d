// The scrollbar's arithmetic over a space of up to 2^64 bytes: browsers cap an element near 33.5
// million pixels, so the thumb position is a proportion of the space computed in bigint, and only
// the visible rows ever exist in the DOM.

/** The thumb's top in pixels for a view starting at `top` in [0, limit). */
export function thumbOffset(top: bigint, limit: bigint, trackPx: number, thumbPx: number): number {
  const span = trackPx - thumbPx;
  if (span <= 0 || limit <= 0n) return 0;
  const scaled = (top * BigInt(Math.round(span * 1024))) / limit;
  return Math.min(span, Number(scaled) / 1024);
}

/** The row-aligned address a thumb dragged to `px` stands for (the inverse of thumbOffset). */
export function offsetToAddress(px: number, limit: bigint, trackPx: number, thumbPx: number, rowBytes: bigint, screenBytes: bigint): bigint {
  const span = trackPx - thumbPx;
  if (span <= 0) return 0n;
  const frac = Math.min(1, Math.max(0, px / span));
  const last = limit > screenBytes ? limit - screenBytes : 0n;
  // frac in 1/2^20 steps keeps full precision for track heights far beyond any screen.
  const a = (last * BigInt(Math.round(frac * 2 ** 20))) >> 20n;
  return a - (a % rowBytes);
}

/** A region's place on the track, at least 2 px so a 4 KiB page in 2^64 stays visible. */
export function regionBand(start: bigint, end: bigint, limit: bigint, trackPx: number): { top: number; height: number } {
  const px = (v: bigint) => Number((v * BigInt(Math.round(trackPx * 1024))) / (limit || 1n)) / 1024;
  const top = px(start);
  return { top, height: Math.max(2, px(end) - top) };
}
