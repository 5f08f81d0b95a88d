// Opening the dump for a CLI command: kvm_openfiles plus kvm_dump_mkheader (unless the dump is a
// savecore core file), the open failure reported in the command's own result shape, and the
// handle closed whatever the command does.

import type { MachineName } from '../../core/machines/machine.ts';
import type { OpenedDump } from '../session/open-dump.ts';
import { UsageError } from './numbers.ts';
import type { Emitter } from './output.ts';

type Exit = number;

export interface DumpArgs {
  kernel?: string;
  dump: string;
  dumpOffset?: number;
  /** The dump device is this partition of --dump (a whole disk or image). */
  partition?: string;
  machine?: MachineName;
  /** Without --kernel, take symbols from the dump's own ksyms (triage commands; not the libkvm ones). */
  symbolsFromDump?: boolean;
}

/** Open kernel + dump and run mkheader unless the dump is a core file, then run the command. */
export async function withDump<T extends object>(
  args: DumpArgs, out: Emitter, failure: T, body: (o: OpenedDump) => Promise<Exit>, writable = false,
): Promise<Exit> {
  // loaded on use: opening a dump (kvm, gzip index, ksyms) is not needed by scan or --help
  const { openDump, OpenError } = await import('../session/open-dump.ts');
  let opened: OpenedDump;
  try {
    opened = await openDump({
      kernelPath: args.kernel, dumpPath: args.dump, dumpOffset: args.dumpOffset, partition: args.partition, machine: args.machine, writable,
      ...(args.symbolsFromDump ? { symbolsFromDump: {} } : {}),
      onIndexProgress: indexProgressOnTerminal(args.dump),
    });
  } catch (e) {
    if (!(e instanceof OpenError)) throw e;
    out.result({ ...failure, error: e.message }, () => [`kvmdump: ${e.message}`]);
    return 1;
  }
  try {
    if (!opened.kd.hasHeader && args.dumpOffset === undefined) {
      throw new UsageError(`${args.dump}: not a savecore core file; give --dump-offset (find it with: kvmdump scan --dump ${args.dump})`);
    }
    return await body(opened);
  } finally {
    await opened.close();
  }
}

/**
 * A compressed core is indexed in one pass before the first read: on a terminal, say how far that
 * has got, so a multi-GiB core does not look like a hang (stdout stays clean for --json).
 */
export function indexProgressOnTerminal(path: string): ((done: number, total: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  let shown = -1;
  return (done, total) => {
    const pct = total > 0 ? Math.floor((done / total) * 100) : 0;
    if (pct === shown) return;
    shown = pct;
    process.stderr.write(`\rindexing ${path}: ${pct}%${pct === 100 ? '\n' : ''}`);
  };
}

