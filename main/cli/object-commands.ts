// What was running when it crashed: `kvmdump ps|lwps|cpus|mounts|modules|bt`, typed from the
// kernel build's own debug information (--debug netbsd.gdb, or a --kernel carrying DWARF).

import type { Command } from 'commander';
import type { Kvm } from '../../core/kvm/handle.ts';
import { TypeInfoError } from '../../core/types/index.ts';
import { MissingTypeError, objectContext, runObjectQuery, type ObjectContext } from '../../core/objects/index.ts';
import { typesFor } from '../session/debug-types.ts';
export { typesFor, objectsSectionsFor, NO_TYPES_HINT } from '../session/debug-types.ts';
import { withDump, type DumpArgs } from './open.ts';
import type { Emitter } from './output.ts';

type Exit = number;
import type { ObjectCommand } from '../../core/objects/index.ts';
import { dumpView } from '../../core/kvm/view.ts';
export type { ObjectCommand };

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
      const kd = opened.kd as Kvm;
      ctx = await objectContext(dumpView(kd), kd.namelistSource ?? kd.kernelSource, t.types);
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

