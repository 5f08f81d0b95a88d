// The object listings as text and JSON, the same for `kvmdump ps|…|bt`, `report --debug` and
// savecore's netbsd.N.report.txt.

import { listAllLwps, listProcesses } from './processes.ts';
import { listCpus } from './cpus.ts';
import { listMounts } from './mounts.ts';
import { listModules } from './modules.ts';
import { unwindPanic } from './stack.ts';
import { MissingTypeError, ObjectFault, type ListEnd, type ObjectContext } from './memory.ts';
import { TypeInfoError } from '../types/api.ts';

export type ObjectCommand = 'ps' | 'lwps' | 'cpus' | 'mounts' | 'modules' | 'bt';
export const OBJECT_COMMANDS: readonly ObjectCommand[] = ['ps', 'lwps', 'cpus', 'mounts', 'modules', 'bt'];

function endLine(end: ListEnd): string[] {
  return end.complete ? [] : [`(listing ended early: ${end.reason})`];
}

const pad = (s: string | number, n: number) => String(s).padEnd(n);
const padL = (s: string | number, n: number) => String(s).padStart(n);

/** One object query over a Kvm handle and types, as plain data plus the human lines. */
export async function runObjectQuery(which: ObjectCommand, ctx: ObjectContext): Promise<{ result: object; lines: string[]; complete: boolean }> {
  switch (which) {
    case 'ps': {
      const r = await listProcesses(ctx);
      const lines = [`${padL('PID', 6)} ${padL('PPID', 6)} ${padL('UID', 6)} ${padL('GID', 6)} ${pad('STAT', 8)} ${padL('LWPS', 4)} ${pad('STARTED', 20)} COMMAND`];
      for (const p of r.items) {
        const started = p.start ? new Date(p.start.sec * 1000).toISOString().replace('.000Z', 'Z') : '?';
        lines.push(`${padL(p.pid, 6)} ${padL(p.ppid ?? '-', 6)} ${padL(p.uid ?? '?', 6)} ${padL(p.gid ?? '?', 6)} ${pad(p.state, 8)} ${padL(p.nlwps, 4)} ${pad(started, 20)} ${p.comm}`);
        for (const problem of p.problems) lines.push(`       (${problem})`);
      }
      return { result: { processes: r.items, end: r.end }, lines: [...lines, ...endLine(r.end)], complete: r.end.complete };
    }
    case 'lwps': {
      const r = await listAllLwps(ctx);
      const lines = [`${padL('PID', 6)} ${padL('LID', 5)} ${pad('STATE', 11)} ${pad('FLAGS', 10)} ${padL('CPU', 3)} ${pad('WMESG', 8)} ${pad('WCHAN', 18)} ${pad('ADDRESS', 18)} NAME`];
      for (const l of r.items) {
        lines.push(`${padL(l.pid, 6)} ${padL(l.lid, 5)} ${pad(l.state, 11)} ${pad('0x' + l.flags.toString(16), 10)} ${padL(l.cpu ?? '-', 3)} ${pad(l.wmesg || '-', 8)} ${pad(l.wchan, 18)} ${pad(l.address, 18)} ${l.name}`);
      }
      return { result: { lwps: r.items, end: r.end }, lines: [...lines, ...endLine(r.end)], complete: r.end.complete };
    }
    case 'cpus': {
      const r = await listCpus(ctx);
      const lines = [`${padL('CPU', 3)} ${pad('NAME', 6)} ${padL('ID', 4)} ${pad('ADDRESS', 18)} ${pad('CURLWP', 18)} RUNNING`];
      for (const c of r.items) lines.push(`${padL(c.index, 3)} ${pad(c.name, 6)} ${padL(c.cpuid, 4)} ${pad(c.address, 18)} ${pad(c.curlwp, 18)} ${c.curlwpDescription}${c.panicked ? '  <- panicked' : ''}`);
      return { result: { cpus: r.items, panicCpu: r.panicCpu, end: r.end }, lines: [...lines, ...endLine(r.end)], complete: r.end.complete };
    }
    case 'mounts': {
      const r = await listMounts(ctx);
      const lines = r.items.map((m) => `${m.mountedFrom} on ${m.mountedOn} type ${m.fstype} (flags 0x${m.flags.toString(16)})`);
      return { result: { mounts: r.items, shape: r.shape, end: r.end }, lines: [...lines, ...endLine(r.end)], complete: r.end.complete };
    }
    case 'modules': {
      const r = await listModules(ctx);
      const lines = [`${pad('NAME', 20)} ${pad('SOURCE', 8)} ${pad('ADDRESS', 18)} SIZE`];
      for (const m of r.items) lines.push(`${pad(m.name, 20)} ${pad(m.builtin ? 'builtin' : m.source, 8)} ${pad(m.loadAddress ?? '-', 18)} ${m.size === null ? '-' : m.size}`);
      return { result: { modules: r.items, end: r.end }, lines: [...lines, ...endLine(r.end)], complete: r.end.complete };
    }
    case 'bt': {
      const bt = await unwindPanic(ctx);
      const lines = [`stack of the panicking thread (${bt.source}, ${bt.arch}):`, ...bt.frames.map((f) => `#${f.index} ${f.pc} ${f.symbol ?? '?'} (frame ${f.fp})`), `(${bt.stop})`];
      return { result: bt, lines, complete: true };
    }
  }
}


const SECTION_TITLES: Record<ObjectCommand, string> = {
  ps: 'Processes', lwps: 'LWPs', cpus: 'CPUs', mounts: 'Mounts', modules: 'Modules', bt: 'Stack of the panicking thread',
};

/** Every listing as report sections; a listing that cannot be made says why in its section. */
export async function objectsReport(ctx: ObjectContext): Promise<{ text: string; json: Record<string, unknown> }> {
  const lines: string[] = [];
  const json: Record<string, unknown> = { typeFormat: ctx.types.format };
  for (const which of OBJECT_COMMANDS) {
    lines.push('', `${SECTION_TITLES[which]}:`);
    try {
      const r = await runObjectQuery(which, ctx);
      json[which] = r.result;
      lines.push(...r.lines.map((l) => `  ${l}`));
    } catch (e) {
      if (!(e instanceof MissingTypeError || e instanceof TypeInfoError || e instanceof ObjectFault)) throw e;
      json[which] = { notAvailable: e.message };
      lines.push(`  not available: ${e.message}`);
    }
  }
  return { text: lines.join('\n') + '\n', json };
}
