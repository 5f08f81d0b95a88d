// Processes (allproc through p_list) and each process's LWPs (p_lwps through l_sibling).

import { field } from '../types/api.ts';
import {
  hex,
  ObjectFault,
  readCString,
  readPointer,
  readStruct,
  structType,
  symbolAddress,
  walkList,
  type ListEnd,
  type ObjectContext,
} from './memory.ts';

/** sys/proc.h p_stat values. */
const PROC_STATES: Record<number, string> = { 1: 'SIDL', 2: 'SACTIVE', 4: 'SSTOP', 5: 'SZOMB', 6: 'SDYING', 7: 'SDEAD' };
/** sys/lwp.h l_stat values. */
const LWP_STATES: Record<number, string> = { 1: 'LSIDL', 2: 'LSRUN', 3: 'LSSLEEP', 4: 'LSSTOP', 5: 'LSZOMB', 7: 'LSONPROC', 8: 'LSSUSPENDED' };
/** PK_MARKER / P_MARKER: an iterator's placeholder on allproc, not a process. */
const P_MARKER = 0x80000000n;

export interface ProcessInfo {
  address: string;
  pid: number;
  ppid: number | null;
  comm: string;
  state: string;
  flags: number;
  uid: number | null;
  gid: number | null;
  /** Start time (p_stats->p_start) as seconds since the epoch, with microseconds. */
  start: { sec: number; usec: number } | null;
  nlwps: number;
  /** Fields that could not be read, with why (e.g. the credential's page is unmapped). */
  problems: string[];
}

export interface LwpInfo {
  address: string;
  pid: number;
  lid: number;
  state: string;
  flags: number;
  wchan: string;
  wmesg: string;
  /** Index of the CPU it last ran on (l_cpu->ci_data.cpu_index), or null. */
  cpu: number | null;
  cpuAddress: string;
  name: string;
  /** The PCB (l_addr) an unwind of this LWP starts from. */
  pcb: string;
  problems: string[];
}

export interface Listing<T> {
  items: T[];
  end: ListEnd;
}

function state(table: Record<number, string>, v: number): string {
  return table[v] ?? `unknown (${v})`;
}

async function optional<T>(problems: string[], fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ObjectFault) {
      problems.push(e.message);
      return null;
    }
    throw e;
  }
}

export async function listProcesses(ctx: ObjectContext): Promise<Listing<ProcessInfo>> {
  const head = symbolAddress(ctx, 'allproc');
  const procT = structType(ctx.types, 'proc');
  const pidField = field(procT, 'p_pid');
  const items: ProcessInfo[] = [];
  let first: bigint;
  try {
    first = await readPointer(ctx, 'allproc', head);
  } catch (e) {
    if (e instanceof ObjectFault) return { items, end: { complete: false, reason: e.message, address: e.address } };
    throw e;
  }
  const end = await walkList(first, async (va) => {
    const p = await readStruct(ctx, 'proc', va);
    const next = p.ptr('p_list.le_next');
    if (BigInt(p.int('p_flag')) & P_MARKER) return next;
    const problems: string[] = [];
    const pptr = p.ptr('p_pptr');
    const ppid =
      pptr === 0n || !pidField
        ? null
        : await optional(problems, async () => {
            const b = await readStruct(ctx, 'proc', pptr);
            return b.num('p_pid');
          });
    const cred = await optional(problems, () => readStruct(ctx, 'kauth_cred', p.ptr('p_cred')));
    const stats = p.has('p_stats') ? await optional(problems, () => readStruct(ctx, 'pstats', p.ptr('p_stats'))) : null;
    items.push({
      address: hex(va),
      pid: p.num('p_pid'),
      ppid,
      comm: p.chars('p_comm'),
      state: state(PROC_STATES, p.num('p_stat')),
      flags: p.num('p_flag'),
      uid: cred ? cred.num('cr_uid') : null,
      gid: cred ? cred.num('cr_gid') : null,
      start: stats ? { sec: stats.num('p_start.tv_sec'), usec: stats.num('p_start.tv_usec') } : null,
      nlwps: p.num('p_nlwps'),
      problems,
    });
    return next;
  });
  return { items, end };
}

/** The LWPs of the process at procAddress. */
export async function listLwps(ctx: ObjectContext, procAddress: bigint): Promise<Listing<LwpInfo>> {
  const items: LwpInfo[] = [];
  let first: bigint;
  let pid: number;
  try {
    const p = await readStruct(ctx, 'proc', procAddress);
    pid = p.num('p_pid');
    first = p.ptr('p_lwps.lh_first');
  } catch (e) {
    if (e instanceof ObjectFault) return { items, end: { complete: false, reason: e.message, address: e.address } };
    throw e;
  }
  const end = await walkList(first, async (va) => {
    const l = await readStruct(ctx, 'lwp', va);
    items.push(await describeLwp(ctx, l, pid));
    return l.ptr('l_sibling.le_next');
  });
  return { items, end };
}

async function describeLwp(ctx: ObjectContext, l: Awaited<ReturnType<typeof readStruct>>, pid: number): Promise<LwpInfo> {
  const problems: string[] = [];
  const cpuVa = l.ptr('l_cpu');
  const cpu = cpuVa === 0n ? null : await optional(problems, async () => (await readStruct(ctx, 'cpu_info', cpuVa)).num('ci_data.cpu_index'));
  const wmesg = (await optional(problems, () => readCString(ctx, 'l_wmesg', l.ptr('l_wmesg'), 64))) ?? '';
  const name = (await optional(problems, () => readCString(ctx, 'l_name', l.ptr('l_name'), 64))) ?? '';
  return {
    address: hex(l.address),
    pid,
    lid: l.num('l_lid'),
    state: state(LWP_STATES, l.num('l_stat')),
    flags: l.num('l_flag'),
    wchan: hex(l.ptr('l_wchan')),
    wmesg,
    cpu,
    cpuAddress: hex(cpuVa),
    name,
    pcb: hex(l.ptr('l_addr')),
    problems,
  };
}

/**
 * Every LWP of every process, in allproc order. A broken LWP list ends that process's LWPs only:
 * the others are still listed, and the end names the first process whose list broke.
 */
export async function listAllLwps(ctx: ObjectContext): Promise<Listing<LwpInfo>> {
  const procs = await listProcesses(ctx);
  const items: LwpInfo[] = [];
  let broken: ListEnd | null = null;
  for (const p of procs.items) {
    const l = await listLwps(ctx, BigInt(p.address));
    items.push(...l.items);
    if (!l.end.complete && !broken) broken = { ...l.end, reason: `the LWPs of pid ${p.pid} end early: ${l.end.reason}` };
  }
  return { items, end: broken ?? procs.end };
}

/** One LWP (for the CPU listing and the stack): lid, pid and name, or the fault. */
export async function lwpSummary(ctx: ObjectContext, va: bigint): Promise<{ lid: number; pid: number | null; comm: string; name: string; pcb: bigint }> {
  const l = await readStruct(ctx, 'lwp', va);
  const problems: string[] = [];
  const p = await optional(problems, () => readStruct(ctx, 'proc', l.ptr('l_proc')));
  const name = (await optional(problems, () => readCString(ctx, 'l_name', l.ptr('l_name'), 64))) ?? '';
  return { lid: l.num('l_lid'), pid: p ? p.num('p_pid') : null, comm: p ? p.chars('p_comm') : '', name, pcb: l.ptr('l_addr') };
}
