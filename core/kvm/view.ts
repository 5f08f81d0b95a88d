// A Kvm handle seen through the strict layers: the DumpView presenting readers get instead of the
// handle itself, so they cannot reach kvm_read's quirks.

import type { DumpView } from '../layers/dump-view.ts';
import { memoryLayers } from '../layers/index.ts';
import type { Kvm } from './handle.ts';

export function dumpView(kd: Kvm): DumpView {
  const layers = memoryLayers(kd);
  const module = kd.machineModule;
  return {
    ...layers,
    dumpSource: kd.dumpSource,
    kernelSource: kd.kernelSource,
    state: kd.machine,
    module,
    longSize: module?.longSize ?? kd.longSize,
    littleEndian: module?.littleEndian ?? true,
    pageSize: module?.pageSize ?? 4096,
    dumpOff: kd.dumpOff,
    hasHeader: kd.hasHeader,
    isCoreFile: kd.isCoreFile,
    cpuDataSize: kd.cpuDsize,
    nlist: async (names) => {
      const res = await kd.nlist([...names]);
      return { ...res, error: res.result === -1 ? kd.geterr() : '' };
    },
  };
}
