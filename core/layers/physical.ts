// The physical layer: one implementation for every machine. A PA is looked up among the dump's
// segments by bisection (layers/segments.ts, the same match rule libkvm's pa2off uses); a PA in
// no segment is a hole — a fault, never the bytes that follow the memory data (libkvm's miss
// answer, spec 5.1) — and the bytes of a run come straight from the source, never through
// _kvm_pread's bounce buffer.

import type { PhysRamSeg } from '../format/kcore.ts';
import type { DumpSource } from '../source.ts';
import { readInto } from './file.ts';
import { hex, StrictReadBuilder, wholeFault } from './faults.ts';
import { SegmentIndex, type SegmentEndRule } from './segments.ts';
import type { PhysicalPiece, PhysicalSpace, ReadFault, StrictRead } from './types.ts';

const PA_LIMIT = 1n << 64n;

export interface PhysicalLayerOptions {
  source: DumpSource;
  /** The segments in header order. */
  segments: readonly PhysRamSeg[];
  rule: SegmentEndRule;
  /** File offset of the first memory byte (libkvm's dump_off). */
  memoryOffset: number;
}

export class PhysicalLayer implements PhysicalSpace {
  readonly index: SegmentIndex;
  private readonly source: DumpSource;
  private readonly memoryOffset: number;

  constructor(opts: PhysicalLayerOptions) {
    this.index = new SegmentIndex(opts.segments, opts.rule);
    this.source = opts.source;
    this.memoryOffset = opts.memoryOffset;
  }

  /** The file offset holding pa, or null when pa is in no segment. */
  fileOffset(pa: bigint): number | null {
    const seg = this.index.find(pa);
    return seg ? this.memoryOffset + Number(seg.dataOffset + (pa - seg.start)) : null;
  }

  mapping(pa: bigint, length: number): PhysicalPiece[] {
    const pieces: PhysicalPiece[] = [];
    let at = pa;
    let left = BigInt(length);
    while (left > 0n) {
      if (at >= PA_LIMIT) {
        pieces.push({ kind: 'hole', pa: at, length: Number(left) });
        break;
      }
      const seg = this.index.find(at);
      const boundary = this.index.nextBoundary(at);
      const n = boundary - at < left ? boundary - at : left;
      if (seg) {
        pieces.push({ kind: 'run', pa: at, fileOffset: this.memoryOffset + Number(seg.dataOffset + (at - seg.start)), length: Number(n) });
      } else {
        pieces.push({ kind: 'hole', pa: at, length: Number(n) });
      }
      at += n;
      left -= n;
    }
    return pieces;
  }

  async read(pa: bigint, length: number): Promise<StrictRead> {
    const out = new StrictReadBuilder(length);
    let at = 0;
    for (const piece of this.mapping(pa, length)) {
      if (piece.kind === 'hole') {
        out.fault({ offset: at, length: piece.length, kind: 'outside-segments', address: piece.pa, reason: `PA ${hex(piece.pa)} is in no memory segment of the dump` });
      } else {
        await readRun(this.source, out, piece.fileOffset, at, piece.length, piece.pa);
      }
      at += piece.length;
    }
    return out.finish();
  }
}

/** A run's bytes, read straight into the answer; faults from the file read are re-addressed in PA. */
async function readRun(source: DumpSource, out: StrictReadBuilder, fileOffset: number, at: number, length: number, pa: bigint): Promise<void> {
  const target = {
    data: out.data,
    fault(f: ReadFault): void {
      const inRun = f.offset - at;
      const fpa = pa + BigInt(inRun);
      const reason = f.kind === 'eof'
        ? `PA ${hex(fpa)} is in a segment, but the dump ends at file offset ${hex(fileOffset + inRun)} before it`
        : `PA ${hex(fpa)}: ${f.reason}`;
      out.fault({ ...f, address: fpa, reason });
    },
  };
  await readInto(source, target, fileOffset, at, length);
}

/** A physical space with no memory: the dump header is not set up yet. */
export const NO_HEADER_PHYSICAL: PhysicalSpace = {
  fileOffset: () => null,
  mapping: (pa, length) => [{ kind: 'hole', pa, length }],
  read: async (pa, length) => wholeFault(length, { kind: 'no-header', address: pa, reason: 'no dump header is set up, so there is no memory to read' }),
};
