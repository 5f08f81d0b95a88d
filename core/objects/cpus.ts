// CPUs: cpu_infos[0..ncpu) (kern/kern_cpu.c), each one's current LWP, and which one panicked
// (paniccpu in kern/subr_prf.c, set by vpanic).

import { hex, ObjectFault, readPointer, readStrict, readStruct, readUnsigned, symbolAddress, type ListEnd, type ObjectContext } from './memory.ts';
import { lwpSummary, type Listing } from './processes.ts';

export interface CpuInfo {
  address: string;
  index: number;
  cpuid: number;
  name: string;
  curlwp: string;
  /** The running LWP as "pid.lid comm", or why it could not be read. */
  curlwpDescription: string;
  curlwpPid: number | null;
  curlwpLid: number | null;
  panicked: boolean;
}

/** The largest ncpu believed (MAXCPUS is 256 on the ports here; allow headroom). */
const MAX_CPUS = 4096;

export async function listCpus(ctx: ObjectContext): Promise<Listing<CpuInfo> & { panicCpu: string | null }> {
  const items: CpuInfo[] = [];
  let panicCpu: bigint | null = null;
  const fail = (e: unknown): Listing<CpuInfo> & { panicCpu: string | null } => {
    if (!(e instanceof ObjectFault)) throw e;
    return { items, end: { complete: false, reason: e.message, address: e.address }, panicCpu: panicCpu === null ? null : hex(panicCpu) };
  };
  let ncpu: number;
  let array: bigint;
  try {
    const ncpuVa = symbolAddress(ctx, 'ncpu');
    ncpu = Number(readUnsigned(await readStrict(ctx, 'ncpu', ncpuVa, 4), 0, 4, ctx.vm.littleEndian));
    array = await readPointer(ctx, 'cpu_infos', symbolAddress(ctx, 'cpu_infos'));
    const pc = ctx.symbol('paniccpu');
    if (pc !== null) panicCpu = await readPointer(ctx, 'paniccpu', pc);
  } catch (e) {
    return fail(e);
  }
  let end: ListEnd = { complete: true };
  if (ncpu > MAX_CPUS) {
    end = { complete: false, reason: `ncpu ${ncpu} is not believable (more than ${MAX_CPUS}); listed ${MAX_CPUS}`, address: symbolAddress(ctx, 'ncpu') };
    ncpu = MAX_CPUS;
  }
  const ps = BigInt(ctx.vm.pointerSize);
  for (let i = 0; i < ncpu; i++) {
    try {
      const va = await readPointer(ctx, `cpu_infos[${i}]`, array + BigInt(i) * ps);
      const ci = await readStruct(ctx, 'cpu_info', va);
      const cur = ci.ptr('ci_curlwp');
      let description = 'none';
      let pid: number | null = null;
      let lid: number | null = null;
      if (cur !== 0n) {
        try {
          const s = await lwpSummary(ctx, cur);
          pid = s.pid;
          lid = s.lid;
          description = `${s.pid ?? '?'}.${s.lid} ${s.comm}${s.name ? ` (${s.name})` : ''}`;
        } catch (e) {
          if (!(e instanceof ObjectFault)) throw e;
          description = e.message;
        }
      }
      items.push({
        address: hex(va),
        index: ci.num('ci_data.cpu_index'),
        cpuid: ci.num('ci_cpuid'),
        name: ci.has('ci_data.cpu_name') ? ci.chars('ci_data.cpu_name') : `cpu${i}`,
        curlwp: hex(cur),
        curlwpDescription: description,
        curlwpPid: pid,
        curlwpLid: lid,
        panicked: panicCpu !== null && panicCpu === va,
      });
    } catch (e) {
      const r = fail(e);
      return r;
    }
  }
  return { items, end, panicCpu: panicCpu === null || panicCpu === 0n ? null : hex(panicCpu) };
}
