// Reading the two header formats into handle state: the CPU segment a dying kernel wrote on the
// dump device (format A, kvm_dump_mkheader, spec 4.6) and a savecore core file's headers
// (format B, _kvm_get_header, spec 4.9).

import {
  alignUp, CORE_CPU, CORE_DATA, decodeKcoreHdr, decodeKcoreSeg, KCORE_HDR_SIZE, KCORE_MAGIC,
  KCORE_SEG_SIZE, KCORESEG_MAGIC, readMidMag, type KcoreHdr,
} from '../format/kcore.ts';
import { midName } from '../format/mids.ts';
import { strerror } from '../errno.ts';
import { machineByMid, MACHINES } from '../machines/index.ts';
import type { MachineModule } from '../machines/machine.ts';
import type { ErrorState } from './errbuf.ts';
import type { DumpIo } from './io.ts';

/** Largest CPU segment we allocate up front; larger c_size values are checked against the file first. */
const EAGER_CPU_DATA_LIMIT = 64 << 20;
/**
 * The largest malloc an ILP32 NetBSD process can get: jemalloc refuses any size above PTRDIFF_MAX
 * (2^31 - 1) with ENOMEM, so an i386 libkvm reports "no cpu_data" for such a c_size where an
 * LP64 one allocates and then reads short.
 */
const ILP32_MALLOC_MAX = 0x7fffffff;

export interface LoadedHeader {
  module: MachineModule;
  kcoreHdr: KcoreHdr;
  cpuData: Uint8Array;
  /** File offset of the first memory byte (kd->dump_off). */
  dumpOff: number;
}

/** The machine a MID selects: the pinned one only (NetBSD's compile-time MID_MACHINE), else any supported. */
export function moduleForMid(mid: number, pinned: MachineModule | undefined): MachineModule | undefined {
  if (pinned) return pinned.mid === mid ? pinned : undefined;
  return machineByMid(mid);
}

/** The MIDs this handle accepts, for messages. */
export function acceptedMids(pinned: MachineModule | undefined): string {
  return (pinned ? [pinned] : MACHINES).map((m) => `${midName(m.mid)} (${m.mid})`).join(', ');
}

/**
 * Read c_size bytes of CPU data without allocating absurd sizes: C mallocs c_size and then
 * the read comes back short; the outcome (count) is the same without the allocation.
 * Returns the data, or the count that came back instead (-1 or short).
 */
export async function readCpuData(
  io: DumpIo, errs: ErrorState, off: number, size: number, module: MachineModule,
): Promise<{ data: Uint8Array } | { count: number } | { noMemory: true }> {
  if (module.longSize === 4 && size > ILP32_MALLOC_MAX) return noMemory(errs, off, size);
  if (size > EAGER_CPU_DATA_LIMIT) {
    const avail = io.source.size;
    if (io.mapped && size + off > avail) {
      // What Pread does here: _kvm_pread's mapped-size check fails with EINVAL.
      errs.errno = 'EINVAL';
      errs.syserr('Pread', { offset: off });
      return { count: -1 };
    }
    if (!io.mapped && avail > 0 && off + size > avail) return { count: Math.max(0, avail - off) };
  }
  let data: Uint8Array;
  try {
    data = new Uint8Array(size);
  } catch {
    return noMemory(errs, off, size);
  }
  const n = await io.preadReporting(data, off);
  return n === size ? { data } : { count: n };
}

/** _kvm_malloc failed: it reports strerror(ENOMEM) (the caller then says what it wanted). */
function noMemory(errs: ErrorState, off: number, size: number): { noMemory: true } {
  errs.errno = 'ENOMEM';
  errs.err(strerror('ENOMEM'), { offset: off, field: 'c_size', found: String(size) });
  return { noMemory: true };
}

/** _kvm_get_header (spec 4.9): a savecore core file at offset 0, or null (no message). */
export async function loadFormatB(
  io: DumpIo, errs: ErrorState, pinned: MachineModule | undefined,
): Promise<LoadedHeader | null> {
  const hdrBytes = new Uint8Array(KCORE_HDR_SIZE);
  if ((await io.preadReporting(hdrBytes, 0)) !== KCORE_HDR_SIZE) return null;
  const mm = readMidMag(hdrBytes);
  const module = mm.magic === KCORE_MAGIC ? moduleForMid(mm.mid, pinned) : undefined;
  if (!module) return null;
  const kcoreHdr = decodeKcoreHdr(hdrBytes, module.littleEndian);
  if (kcoreHdr.nseg !== 2) return null;

  let offset = kcoreHdr.hdrSize;
  const cpuSeg = await readSegHeader(io, offset, module);
  if (!cpuSeg || cpuSeg.midmag.magic !== KCORESEG_MAGIC || cpuSeg.midmag.flag !== CORE_CPU) return null;
  offset += kcoreHdr.segHdrSize;
  const cpu = await readCpuData(io, errs, offset, cpuSeg.size, module);
  if (!('data' in cpu)) return null;
  offset += cpuSeg.size;
  const dataSeg = await readSegHeader(io, offset, module);
  offset += kcoreHdr.segHdrSize;
  if (!dataSeg || dataSeg.midmag.magic !== KCORESEG_MAGIC || dataSeg.midmag.flag !== CORE_DATA) return null;
  return { module, kcoreHdr, cpuData: cpu.data, dumpOff: offset };
}

async function readSegHeader(io: DumpIo, off: number, module: MachineModule) {
  const b = new Uint8Array(KCORE_SEG_SIZE);
  if ((await io.preadReporting(b, off)) !== KCORE_SEG_SIZE) return null;
  return decodeKcoreSeg(b, module.littleEndian);
}

/** The format-B generic header kvm_dump_mkheader builds (spec 4.6 step 10). */
export function synthesizeKcoreHdr(module: MachineModule): KcoreHdr {
  return {
    midmag: { flag: 0, mid: module.mid, magic: KCORE_MAGIC },
    hdrSize: alignUp(KCORE_HDR_SIZE, module.alignBytes),
    segHdrSize: alignUp(KCORE_SEG_SIZE, module.alignBytes),
    nseg: 2,
  };
}
