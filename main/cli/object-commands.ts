// What was running when it crashed: `kvmdump ps|lwps|cpus|mounts|modules|bt`, typed from the
// kernel build's own debug information (--debug netbsd.gdb, or a --kernel carrying DWARF).

import type { Command } from 'commander';
import type { Kvm } from '../../core/kvm/handle.ts';
import type { DumpSource } from '../../core/source.ts';
import { loadTypeInfo, TypeInfoError, type TypeInfo } from '../../core/types/index.ts';
import {
  listAllLwps, listCpus, listModules, listMounts, listProcesses, MissingTypeError, objectContext, unwind,
  type ListEnd, type ObjectContext,
} from '../../core/objects/index.ts';
import { openSource } from '../sources/node-source.ts';
import { withDump, type DumpArgs } from './open.ts';
import type { Emitter } from './output.ts';

type Exit = number;
export type ObjectCommand = 'ps' | 'lwps' | 'cpus' | 'mounts' | 'modules' | 'bt';

export const NO_TYPES_HINT =
  'give --debug netbsd.gdb (the debug kernel a NetBSD build writes beside netbsd, from the same build), or a --kernel built with debug information';

/** The type information for a dump: --debug, else the kernel file itself; a sentence when neither has it. */
export async function typesFor(debugPath: string | undefined, kernel: DumpSource | null): Promise<{ types: TypeInfo } | { error: string }> {
  if (debugPath) {
    let src;
    try {
      src = await openSource(debugPath);
    } catch (e) {
      return { error: `${debugPath}: ${(e as Error).message}` };
    }
    try {
      return { types: await loadTypeInfo(src) };
    } catch (e) {
      if (e instanceof TypeInfoError) return { error: `no type information: ${e.message}` };
      throw e;
    } finally {
      await src.close?.();
    }
  }
  if (kernel) {
    try {
      return { types: await loadTypeInfo(kernel) };
    } catch (e) {
      if (!(e instanceof TypeInfoError)) throw e;
    }
  }
  return { error: `no type information: the kernel${kernel ? ' file' : ''} carries no DWARF; ${NO_TYPES_HINT}` };
}

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
      const bt = await unwind(ctx);
      const lines = [`stack of the panicking thread (${bt.source}, ${bt.arch}):`, ...bt.frames.map((f) => `#${f.index} ${f.pc} ${f.symbol ?? '?'} (frame ${f.fp})`), `(${bt.stop})`];
      return { result: bt, lines, complete: true };
    }
  }
}

export async function objectCommand(which: ObjectCommand, args: DumpArgs & { debug?: string }, out: Emitter): Promise<Exit> {
  return withDump({ ...args, symbolsFromDump: true }, out, {}, async (opened) => {
    if (!opened.kd.hasHeader) {
      const error = `kvm_dump_mkheader: ${opened.mkheader}${opened.kd.geterr() ? ` (${opened.kd.geterr()})` : ''}: no dump header at offset ${args.dumpOffset}`;
      out.result({ error }, () => [`kvmdump: ${error}`]);
      return 1;
    }
    const t = await typesFor(args.debug, opened.kernel);
    if ('error' in t) {
      out.result({ error: t.error }, () => [`kvmdump: ${which}: ${t.error}`]);
      return 1;
    }
    let ctx: ObjectContext;
    try {
      ctx = await objectContext(opened.kd as Kvm, opened.dump, t.types);
    } catch (e) {
      const error = (e as Error).message;
      out.result({ error }, () => [`kvmdump: ${which}: ${error}`]);
      return 1;
    }
    try {
      const r = await runObjectQuery(which, ctx);
      out.result(r.result, () => r.lines);
      return 0;
    } catch (e) {
      if (e instanceof MissingTypeError || e instanceof TypeInfoError) {
        out.result({ error: e.message }, () => [`kvmdump: ${which}: ${e.message}`]);
        return 1;
      }
      throw e;
    }
  });
}

const DESCRIPTIONS: Record<ObjectCommand, string> = {
  ps: 'processes at the time of the crash (allproc): pid, parent, uid/gid, state, start time, command',
  lwps: 'every LWP of every process: state, flags, wait channel and message, CPU, name',
  cpus: 'every CPU, what it was running, and which one panicked',
  mounts: 'mounted file systems (mountlist)',
  modules: 'kernel modules, built in and loaded (module_list)',
  bt: 'the panicking thread\'s stack, unwound from dumppcb through the frame pointers',
};

export function registerObjectCommands(
  program: Command,
  withDumpOptions: (cmd: Command, kernelRequired?: boolean) => Command,
  action: (fn: (o: Record<string, unknown>, out: Emitter) => Promise<number>) => (o: Record<string, unknown>) => Promise<void>,
  dumpArgs: (o: Record<string, unknown>) => DumpArgs,
): void {
  for (const which of Object.keys(DESCRIPTIONS) as ObjectCommand[]) {
    withDumpOptions(program.command(which).description(DESCRIPTIONS[which]), false)
      .option('--debug <file>', 'debug kernel with DWARF type information (netbsd.gdb)')
      .action(action((o, out) => objectCommand(which, { ...dumpArgs(o), debug: o.debug as string | undefined }, out)));
  }
}
