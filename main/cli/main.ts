// kvmdump: the command-line front over core/ and the main-process services.

import { Command, Option } from 'commander';
import { packageVersion } from '../app/paths.ts';
import { MACHINE_NAMES } from '../../core/machines/index.ts';
import type { MachineName } from '../../core/machines/machine.ts';
import { dropOutputWhenReaderCloses, makeEmitter, printJsonFailure } from './output.ts';
import { parseAddress, parseByteCount, parseCInt, UsageError } from './numbers.ts';
import { registerSavecore } from './savecore-command.ts';
import { registerObjectCommands } from './object-register.ts';

type Opts = Record<string, unknown>;

// The commands load on use: each command's run pays for importing only its own code (a bundled
// CLI compiles what it imports at start, and every `kvmdump scan` starts node afresh).
const kvm = () => import('./kvm-commands.ts');

const machineOption = () => new Option('--machine <name>', 'pin the architecture (as libkvm compiled for it)').choices([...MACHINE_NAMES]);

function dumpArgs(o: Opts) {
  return {
    kernel: o.kernel as string | undefined,
    dump: o.dump as string,
    dumpOffset: o.dumpOffset === undefined ? undefined : parseByteCount(o.dumpOffset as string, '--dump-offset'),
    partition: o.partition as string | undefined,
    machine: o.machine as MachineName | undefined,
  };
}

function withDumpOptions(cmd: Command, kernelRequired = true): Command {
  (kernelRequired ? cmd.requiredOption('--kernel <file>', 'kernel ELF image (namelist)') : cmd.option('--kernel <file>', 'kernel ELF image (namelist)'))
    .requiredOption('--dump <file>', 'dump device, dump image, or savecore core file (.core or .core.gz)')
    .option('--dump-offset <bytes>', 'offset of the dump header (dumplo * 512); decimal or 0x-hex')
    .option('--partition <id>', 'the dump device is this partition of --dump (GPT/MBR number, disklabel letter or GPT name); --dump-offset counts from its start')
    .addOption(machineOption())
    .option('--json', 'print one JSON object on stdout');
  return cmd;
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('kvmdump')
    .description('NetBSD kernel crash dumps: kvm_dump(3) re-implemented, savecore export, translation')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError()
    .exitOverride();
  const run = (fn: (o: Opts, out: ReturnType<typeof makeEmitter>) => Promise<number>) => async (o: Opts) => {
    setExit(await fn(o, makeEmitter(Boolean(o.json))));
  };

  withDumpOptions(program.command('mkheader').description('validate the CPU segment header at --dump-offset (kvm_dump_mkheader)'))
    .action(run(async (o, out) => (await kvm()).mkheaderCommand(dumpArgs(o), out)));

  withDumpOptions(program.command('wrtheader').description('write the savecore core-file header (kvm_dump_wrtheader)'))
    .requiredOption('--dumpsize <n>', 'the int dumpsize argument (bytes of memory data)')
    .requiredOption('--out <file>', 'file that receives exactly the bytes written')
    .action(run(async (o, out) => (await kvm()).wrtheaderCommand({ ...dumpArgs(o), dumpsize: parseCInt(o.dumpsize as string, '--dumpsize'), out: o.out as string }, out)));

  withDumpOptions(program.command('inval').description('clear the dump magic on the dump device (kvm_dump_inval); writes!'))
    .option('--yes', 'confirm the write to the dump device')
    .action(run(async (o, out) => (await kvm()).invalCommand({ ...dumpArgs(o), yes: Boolean(o.yes) }, out)));

  withDumpOptions(program.command('read').description('read kernel virtual memory (kvm_read)'))
    .option('--va <addr>', 'virtual address')
    .option('--symbol <name>', 'symbol whose address to read from')
    .requiredOption('--length <n>', 'bytes to read')
    .option('--out <file>', 'write the bytes read, raw, to this new file (any length, constant memory)')
    .action(run(async (o, out) => {
      if ((o.va === undefined) === (o.symbol === undefined)) throw new UsageError('give exactly one of --va and --symbol');
      const args = {
        ...dumpArgs(o),
        va: o.va === undefined ? undefined : parseAddress(o.va as string, '--va'),
        symbol: o.symbol as string | undefined,
        length: parseByteCount(o.length as string, '--length'),
        out: o.out as string | undefined,
      };
      return (await kvm()).readCommand(args, out);
    }));

  withDumpOptions(program.command('kvatop').description('translate a kernel virtual address (_kvm_kvatop, _kvm_pa2off)'))
    .requiredOption('--va <addr>', 'virtual address')
    .action(run(async (o, out) => (await kvm()).kvatopCommand({ ...dumpArgs(o), va: parseAddress(o.va as string, '--va') }, out)));

  program.command('nlist').description('look symbols up in a kernel image (kvm_nlist)')
    .requiredOption('--kernel <file>', 'kernel ELF image')
    .addOption(machineOption())
    .option('--json', 'print one JSON object on stdout')
    .argument('<names...>', 'symbol names (a leading _ is stripped, as nlist does)')
    .action(async (names: string[], o: Opts) => {
      setExit(await (await kvm()).nlistCommand({ kernel: o.kernel as string, names, machine: o.machine as MachineName | undefined }, makeEmitter(Boolean(o.json))));
    });

  program.command('scan').description('find dump headers on a device or image when dumplo is unknown')
    .requiredOption('--dump <file>', 'device or image')
    .option('--partition <id>', 'scan only this partition of --dump; offsets are then relative to it')
    .option('--progress', 'show progress on stderr')
    .option('--max-bytes <n>', 'read at most this many bytes (default: all of a sized source, 64 GiB of one without a size)')
    .option('--json', 'print one JSON object on stdout')
    .action(run(async (o, out) => (await kvm()).scanCommand({
      dump: o.dump as string, partition: o.partition as string | undefined, progress: Boolean(o.progress),
      maxBytes: o.maxBytes === undefined ? undefined : parseByteCount(o.maxBytes as string, '--max-bytes'),
    }, out)));

  program.command('disks').description('the partition map of a disk or image, and the dumps in its NetBSD swap partitions')
    .argument('<device>', 'whole disk device or disk image')
    .option('--all', 'search every partition, not just NetBSD swap')
    .option('--kernel <file>', 'kernel image for crash time and saved state (default: the dump\'s own ksyms)')
    .option('--quick', 'skip the crash time and saved state')
    .option('--verify-image', 'for an E01 image: read it all and check the MD5/SHA-1 the imager stored')
    .option('--max-bytes <n>', 'search at most this much of each partition, backwards from its end (default: all)')
    .option('--json', 'print one JSON object on stdout')
    .action(async (device: string, o: Opts) => {
      setExit(await (await import('./disk-commands.ts')).disksCommand({
        device, all: Boolean(o.all), kernel: o.kernel as string | undefined, quick: Boolean(o.quick), verifyImage: Boolean(o.verifyImage),
        ...(o.maxBytes !== undefined ? { maxBytes: parseByteCount(o.maxBytes as string, '--max-bytes') } : {}),
      }, makeEmitter(Boolean(o.json))));
    });

  program.command('serve').description('run the workbench in a browser: a token-protected server on 127.0.0.1')
    .option('--port <n>', 'port to listen on; 0 picks a free one', '0')
    .option('--host <addr>', 'address to bind; only 127.0.0.1 is accepted', '127.0.0.1')
    .option('--open', 'open the URL in the default browser')
    .option('--allow-write', 'permit kvm_dump_inval (writes to the dump device)')
    .option('--sample', 'open the bundled sample dump when no --dump is given')
    .option('--kernel <file>', 'kernel ELF image (namelist)')
    .option('--dump <file>', 'dump device, dump image, or savecore core file to open at start')
    .option('--dump-offset <bytes>', 'offset of the dump header (dumplo * 512); decimal or 0x-hex')
    .addOption(machineOption())
    .action(async (o: Opts) => {
      if (o.host !== '127.0.0.1') throw new UsageError(`--host ${String(o.host)}: serve mode binds to 127.0.0.1 only`);
      if (o.dump === undefined && (o.kernel !== undefined || o.dumpOffset !== undefined)) throw new UsageError('--kernel and --dump-offset need --dump');
      const port = parseByteCount(o.port as string, '--port');
      if (port > 65535) throw new UsageError(`--port ${port}: a port is 0..65535`);
      const { serveCommand } = await import('../serve/command.ts'); // loaded on use: the app server is heavy at every CLI start
      setExit(await serveCommand({
        port,
        host: o.host as string,
        open: Boolean(o.open),
        allowWrite: Boolean(o.allowWrite),
        sample: Boolean(o.sample),
        request: o.dump === undefined ? null : dumpArgsToRequest(dumpArgs(o)),
      }));
    });

  registerSavecore(program, setExit);

  // Triage works without --kernel when the dump holds the kernel's ksyms (found by a memory search).
  withDumpOptions(program.command('report').description('crash triage: what crashed, when and why (crashinfo-style summary)'), false)
    .option('--lines <n>', 'message buffer lines to show', '20')
    .option('--debug <file>', 'debug kernel (netbsd.gdb): add processes, LWPs, CPUs, mounts, modules and the stack')
    .action(run(async (o, out) => (await import('./triage-commands.ts')).reportCommand({ ...dumpArgs(o), lines: parseByteCount(o.lines as string, '--lines'), debug: o.debug as string | undefined }, out)));

  withDumpOptions(program.command('dmesg').description('the kernel message buffer as dmesg -M reads it'), false)
    .action(run(async (o, out) => (await import('./triage-commands.ts')).dmesgCommand(dumpArgs(o), out)));

  registerObjectCommands(program, withDumpOptions, run, dumpArgs);

  return program;
}

function dumpArgsToRequest(a: ReturnType<typeof dumpArgs>) {
  return { kernelPath: a.kernel, dumpPath: a.dump, dumpOffset: a.dumpOffset, machine: a.machine };
}

/** Run the CLI; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  dropOutputWhenReaderCloses(process.stdout);
  let code = 0;
  const program = buildProgram((c) => (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    // --json promises exactly one JSON object on stdout, whatever happens.
    const json = argv.includes('--json');
    if (e instanceof UsageError) {
      process.stderr.write(`kvmdump: ${e.message}\n`);
      if (json) printJsonFailure(e.message, 'usage');
      return 1;
    }
    const ce = e as { code?: string; exitCode?: number; message?: string };
    if (typeof ce.code === 'string' && ce.code.startsWith('commander.')) {
      const ok = ce.code === 'commander.helpDisplayed' || ce.code === 'commander.version';
      if (json && !ok) printJsonFailure(String(ce.message ?? ce.code).replace(/^error: /, ''), 'usage');
      return ok ? 0 : 1;
    }
    if (!json) throw e;
    process.stderr.write(`kvmdump: internal error: ${e instanceof Error && e.stack ? e.stack : String(e)}\n`);
    printJsonFailure(`internal error: ${e instanceof Error ? e.message : String(e)}`, 'internal');
    return 70;
  }
}

