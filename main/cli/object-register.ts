// Registering `kvmdump ps|lwps|cpus|mounts|modules|bt`; the commands themselves (object-commands.ts,
// with the object readers and the DWARF type loader) load on use, not at every CLI start.

import type { Command } from 'commander';
import type { ObjectCommand } from '../../core/objects/index.ts';
import type { DumpArgs } from './open.ts';
import type { Emitter } from './output.ts';

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
      .action(action(async (o, out) => (await import('./object-commands.ts')).objectCommand(which, { ...dumpArgs(o), debug: o.debug as string | undefined }, out)));
  }
}

