// kvm_dump_header / kvm_dump_wrtheader (spec 4.7): the savecore core-file header, written in order
// to a sink that is never seeked, so the sink may be a compressor.

import { alignUp, CORE_CPU, CORE_DATA, encodeKcoreHdr, encodeKcoreSeg, KCORE_HDR_SIZE, KCORE_SEG_SIZE, KCORESEG_MAGIC, type KcoreHdr } from '../format/kcore.ts';
import { errnoOf } from '../errno.ts';
import type { MachineModule } from '../machines/machine.ts';
import type { ByteSink } from '../source.ts';
import type { ErrorState } from './errbuf.ts';

export interface CoreHeaderInput {
  sink: ByteSink;
  errs: ErrorState;
  module: MachineModule;
  kcoreHdr: KcoreHdr;
  cpuData: Uint8Array;
  /** The C int dumpsize argument; c_size of the DATA segment is its u32 bit pattern (spec 9.4). */
  dumpsize: number;
}

const CLEAR_GAP_CHUNK = 1024;

/** Returns the bytes written (D of format B), or -1 with errbuf set. */
export async function writeCoreHeader(input: CoreHeaderInput): Promise<number> {
  const { errs, module, kcoreHdr, cpuData } = input;
  const le = module.littleEndian;
  const w = new HeaderWriter(input.sink, errs);
  let offset = 0;

  if (!(await w.put(encodeKcoreHdr(kcoreHdr, le), 'kvm_dump_header'))) return -1;
  offset += kcoreHdr.hdrSize;
  if (!(await w.gap(kcoreHdr.hdrSize - KCORE_HDR_SIZE))) return -1;

  const cpuAligned = alignUp(cpuData.length, module.alignBytes);
  const cpuSeg = encodeKcoreSeg({ midmag: { flag: CORE_CPU, mid: 0, magic: KCORESEG_MAGIC }, size: cpuAligned }, le);
  if (!(await w.put(cpuSeg, 'kvm_dump_header'))) return -1;
  offset += kcoreHdr.segHdrSize;
  if (!(await w.gap(kcoreHdr.segHdrSize - KCORE_SEG_SIZE))) return -1;

  // A zero-length fwrite returns 0 and so counts as a failure (spec 9.18).
  if (!(await w.put(cpuData, 'kvm_dump_header'))) return -1;
  offset += cpuAligned;
  if (!(await w.gap(cpuAligned - cpuData.length))) return -1;

  const dataSeg = encodeKcoreSeg({ midmag: { flag: CORE_DATA, mid: 0, magic: KCORESEG_MAGIC }, size: input.dumpsize >>> 0 }, le);
  if (!(await w.put(dataSeg, 'kvm_dump_header'))) return -1;
  offset += kcoreHdr.segHdrSize;
  if (!(await w.gap(kcoreHdr.segHdrSize - KCORE_SEG_SIZE))) return -1;
  return offset | 0;
}

/** fwrite(buf, len, 1, fp) == 1 semantics over a ByteSink, with libkvm's error reporting. */
class HeaderWriter {
  constructor(
    private readonly sink: ByteSink,
    private readonly errs: ErrorState,
  ) {}

  async put(bytes: Uint8Array, what: string): Promise<boolean> {
    if (bytes.length === 0) {
      this.errs.syserr(what);
      return false;
    }
    try {
      await this.sink.write(bytes);
      return true;
    } catch (e) {
      this.errs.errno = errnoOf(e);
      this.errs.syserr(what);
      return false;
    }
  }

  /** clear_gap: zeros in chunks of at most 1024 bytes; a gap of 0 (or less) writes nothing. */
  async gap(size: number): Promise<boolean> {
    while (size > 0) {
      const n = Math.min(size, CLEAR_GAP_CHUNK);
      if (!(await this.put(new Uint8Array(n), 'clear_gap'))) return false;
      size -= n;
    }
    return true;
  }
}
