// What the Header and Segment map views show about an open dump, from the kvm handle's state.

import type { HeaderInfo, SegmentInfo } from '../../contract/results.ts';
import { toHexAddress } from '../../contract/values.ts';
import { faultInfo } from './fault.ts';
import type { Session } from './sessions.ts';

export function headerInfo(s: Session): HeaderInfo {
  const { kd, mkheader, dump, compressed } = s.opened;
  const state = kd.machine;
  const module = kd.machineModule;
  const hdr = kd.kcoreHdr;
  const segments: SegmentInfo[] = [];
  let fileOffset = kd.dumpOff;
  let memoryBytes = 0;
  for (const seg of state?.segments ?? []) {
    segments.push({
      start: toHexAddress(seg.start),
      size: toHexAddress(seg.size),
      end: toHexAddress(seg.start + seg.size),
      fileOffset,
    });
    fileOffset += Number(seg.size);
    memoryBytes += Number(seg.size);
  }
  const cpuFields: Record<string, string> = {};
  for (const [name, value] of Object.entries(state?.fields ?? {})) cpuFields[name] = toHexAddress(value);
  return {
    sessionId: s.id,
    kernelPath: s.params.kernelPath,
    namelist: s.opened.namelist,
    dumpPath: s.params.dumpPath,
    dumpSize: dump.size,
    compressed,
    isCoreFile: kd.isCoreFile,
    hasHeader: kd.hasHeader,
    mkheader,
    dumpOffsetAsked: s.params.dumpOffset,
    partition: s.opened.partition && {
      id: s.opened.partition.id, name: s.opened.partition.name, typeName: s.opened.partition.typeName, start: s.opened.partition.start, size: s.opened.partition.size,
    },
    dumpOff: kd.hasHeader ? kd.dumpOff : null,
    machine: state?.name ?? null,
    pageSize: module?.pageSize ?? null,
    longSize: module?.longSize ?? null,
    cpuDataSize: kd.cpuDsize,
    kcore: hdr
      ? {
          mid: hdr.midmag.mid, magic: toHexAddress(hdr.midmag.magic), flag: hdr.midmag.flag,
          hdrSize: hdr.hdrSize, segHdrSize: hdr.segHdrSize, nseg: hdr.nseg,
        }
      : null,
    cpuFields,
    segments,
    memoryBytes,
    error: kd.geterr(),
    fault: faultInfo(kd.lastFault),
    generation: s.generation,
    writes: s.writes,
    changedOnDisk: s.changedOnDisk,
  };
}
