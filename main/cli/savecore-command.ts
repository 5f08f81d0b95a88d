// `kvmdump savecore`: savecore(8)'s command line over the savecore job. Messages go to stderr as
// savecore's syslog(LOG_PERROR) lines do; --json prints one object on stdout at the end.

import { Command, Option } from 'commander';
import type { SavecoreResult } from '../jobs/savecore/job.ts';
import type { SavecoreEvent } from '../jobs/savecore/events.ts';
import { parseCompressionLevel, SAVECORE_USAGE, type SavecoreOptions } from '../jobs/savecore/options.ts';
import { bigintAsHex } from '../jobs/savecore/audit.ts';
import { parseByteCount, UsageError } from './numbers.ts';

type Opts = Record<string, unknown>;

export function registerSavecore(program: Command, setExit: (code: number) => void): void {
  program.command('savecore')
    .description('save a crash dump as savecore(8) does (netbsd.N.core, netbsd.N), verified, then invalidate it')
    .usage('[-cfnvz] [-N system] [-Z level] [--partition ID] [--dump-offset BYTES] [--now EPOCH] [--keep] [--json] [--progress] directory DEVICE')
    .option('-c', 'clear (invalidate) the dump without saving it')
    .addOption(new Option('-d', 'synonym of -v').hideHelp())
    .option('-f', 'force: save even if the dump looks invalid or space is short')
    .option('-n', 'test only: exit 0 if a dump is present')
    .option('-v', 'verbose')
    .option('-z', 'gzip-compress core and kernel (.gz names), in parallel')
    .option('-N <system>', 'kernel file: namelist, reference dumpmag/version, copied to netbsd.N')
    .option('-Z <level>', 'gzip level 0..9 (default 1)')
    .option('--debug <file>', 'debug kernel (netbsd.gdb): the report lists processes, CPUs, mounts, modules and the stack')
    .option('--dump-offset <bytes>', 'dump header offset (dumplo * 512); default: scan the device')
    .option('--partition <id>', 'DEVICE is a whole disk or image; the dump device is this partition of it (number, disklabel letter or GPT name), --dump-offset relative to it')
    .option('--now <epoch>', 'current time in seconds for the ±60 days crash time check')
    .option('--page-size <bytes>', "savecore host's page size (dumpbytes = dumpsize × this)", '4096')
    .option('--keep', 'do not invalidate the dump after saving')
    .option('--json', 'print one JSON object on stdout')
    .option('--progress', 'show bytes, rate and ETA on stderr')
    .argument('<directory>', 'where netbsd.N.core and friends are written')
    .argument('<device>', 'dump device or dump image')
    .allowExcessArguments() // savecore ignores operands after the directory (spec 7.1)
    .showHelpAfterError(false)
    .configureOutput({ outputError: (text, write) => write(savecoreUsage(commanderComplaint(text))) })
    .action(async (directory: string, device: string, o: Opts) => {
      const level = o.Z === undefined ? undefined : parseCompressionLevel(o.Z as string);
      if (level === null) {
        process.stderr.write(savecoreUsage(`Invalid compression \`${o.Z as string}'`));
        setExit(1);
        return;
      }
      setExit(await savecoreCommand(directory, device, o));
    });
}

/** savecore's usage(): the complaint and the usage line, both logged (spec 7.1). */
function savecoreUsage(complaint: string): string {
  return `savecore: ${complaint}\nsavecore: ${SAVECORE_USAGE}\n`;
}

/** Commander's parse errors in getopt's words. */
function commanderComplaint(text: string): string {
  const t = text.trim().replace(/^error: /, '');
  const unknown = /^unknown option '-?(-?[^']*)'/.exec(t);
  if (unknown) return `Unknown flag \`${unknown[1]}'`;
  const missing = /^option '-{1,2}([^ ']+)[^']*' argument missing/.exec(t);
  if (missing) return `Missing argument for flag \`${missing[1]}'`;
  return t;
}

function toOptions(directory: string, device: string, o: Opts): SavecoreOptions {
  const level = o.Z === undefined ? undefined : parseCompressionLevel(o.Z as string) ?? undefined; // checked in the action
  const now = o.now === undefined ? undefined : Number(o.now);
  if (now !== undefined && !Number.isFinite(now)) throw new UsageError(`--now: '${o.now as string}' is not a number of seconds`);
  const pageSize = parseByteCount(o.pageSize as string, '--page-size');
  if (pageSize === 0) throw new UsageError('--page-size must not be 0');
  return {
    directory, device,
    kernel: (o.N as string | undefined) ?? null,
    debug: (o.debug as string | undefined) ?? null,
    dumpOffset: o.dumpOffset === undefined ? undefined : parseByteCount(o.dumpOffset as string, '--dump-offset'),
    ...(o.partition !== undefined ? { partition: o.partition as string } : {}),
    clear: Boolean(o.c), force: Boolean(o.f), testOnly: Boolean(o.n), verbose: Boolean(o.v || o.d), compress: Boolean(o.z),
    level, keep: Boolean(o.keep), now, pageSize,
  };
}

function formatRate(bytesPerSecond: number): string {
  return `${(bytesPerSecond / (1 << 20)).toFixed(1)} MiB/s`;
}

function progressLine(e: Extract<SavecoreEvent, { type: 'progress' }>): string {
  const pct = e.total > 0 ? ` (${((100 * e.done) / e.total).toFixed(1)}%)` : '';
  const eta = e.etaSeconds === null ? '' : `, ETA ${Math.ceil(e.etaSeconds)}s`;
  return `\r${e.phase}: ${e.done} of ${e.total} bytes${pct}, ${formatRate(e.bytesPerSecond)}${eta}   `;
}

export async function savecoreCommand(directory: string, device: string, o: Opts): Promise<number> {
  const opts = toOptions(directory, device, o);
  const json = Boolean(o.json);
  const controller = new AbortController();
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
    controller.abort();
  };
  process.on('SIGINT', onSigint); // kept until the job has cleaned up: a second ^C must not cut that short
  let progressShown = false;
  const endProgress = () => {
    if (progressShown) process.stderr.write('\n');
    progressShown = false;
  };
  let result: SavecoreResult;
  try {
    // loaded on use: the savecore job (compression, hashing, verification) is heavy at every CLI start
    const { runSavecore } = await import('../jobs/savecore/job.ts');
    result = await runSavecore(opts, {
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'log') {
          endProgress();
          process.stderr.write(`savecore: ${e.message.replace(/\n$/, '')}\n`);
        } else if (e.type === 'stdout') {
          (json ? process.stderr : process.stdout).write(e.text);
        } else if (e.type === 'progress' && o.progress) {
          process.stderr.write(progressLine(e));
          progressShown = true;
        } else if (e.type === 'phase') {
          endProgress();
        }
      },
    });
  } finally {
    process.removeListener('SIGINT', onSigint);
    endProgress();
  }
  if (json) process.stdout.write(JSON.stringify(summary(result), bigintAsHex) + '\n');
  return interrupted && result.status === 'cancelled' ? 130 : result.exitCode;
}

/** The --json object: the outcome without the bulky per-file verification internals. */
function summary(r: SavecoreResult): object {
  return {
    exitCode: r.exitCode,
    status: r.status,
    device: r.device,
    directory: r.directory,
    dumpOffset: r.dumpOffset,
    partition: r.partition && { id: r.partition.id, name: r.partition.name, typeName: r.partition.typeName, start: r.partition.start, size: r.partition.size },
    absoluteOffset: r.absoluteOffset,
    candidates: r.candidates,
    bounds: r.bounds,
    files: r.files,
    core: r.save?.core ?? null,
    kernel: r.save?.kernel ?? null,
    verified: r.save ? Boolean(r.save.coreVerification?.ok && r.save.kernelVerification?.ok) : null,
    verification: r.save?.coreVerification ?? null,
    invalidation: r.invalidation,
    missingSymbols: r.missingSymbols,
    panicMessage: r.panicMessage,
    crashTime: r.crashTime,
    messages: r.messages,
  };
}
