// One place decides how results leave the CLI: with --json exactly one JSON object on stdout,
// otherwise readable lines; diagnostics always go to stderr.

export interface Emitter {
  json: boolean;
  /** Print the result: the object as JSON, or the human lines. */
  result(obj: object, human: () => string[]): void;
  /** A diagnostic for humans; never on stdout in JSON mode. */
  note(line: string): void;
}

let resultPrinted = false;

/** Whether a command has printed its result (so a late failure does not add a second JSON object). */
export function hasPrintedResult(): boolean {
  return resultPrinted;
}

/** The one JSON object of a --json run that failed before its command could answer. */
export function printJsonFailure(error: string, kind: 'usage' | 'internal'): void {
  if (resultPrinted) return;
  resultPrinted = true;
  process.stdout.write(JSON.stringify({ result: null, error, kind }) + '\n');
}

export function makeEmitter(json: boolean): Emitter {
  return {
    json,
    result(obj, human) {
      resultPrinted = true;
      if (json) process.stdout.write(JSON.stringify(obj, bigintReplacer) + '\n');
      else for (const line of human()) process.stdout.write(line + '\n');
    },
    note(line) {
      process.stderr.write(line + '\n');
    },
  };
}

function bigintReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? '0x' + value.toString(16) : value;
}

const guarded = new WeakSet<NodeJS.WritableStream>();

/**
 * `kvmdump … | head -1`: when the reader closes the pipe, the next write fails with EPIPE, which
 * Node reports as an unhandled 'error' event (a stack trace and exit 1). Treat it as a C program
 * ignoring SIGPIPE would at its best: drop the rest of the output and let the command finish with
 * its own exit code (savecore, say, still cleans up). Other stream errors stay fatal.
 */
export function dropOutputWhenReaderCloses(stream: NodeJS.WriteStream = process.stdout): void {
  if (guarded.has(stream)) return;
  guarded.add(stream);
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
    stream.write = (() => true) as typeof stream.write;
  });
}
