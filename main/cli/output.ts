// One place decides how results leave the CLI: with --json exactly one JSON object on stdout,
// otherwise readable lines; diagnostics always go to stderr.

export interface Emitter {
  json: boolean;
  /** Print the result: the object as JSON, or the human lines. */
  result(obj: object, human: () => string[]): void;
  /** A diagnostic for humans; never on stdout in JSON mode. */
  note(line: string): void;
}

export function makeEmitter(json: boolean): Emitter {
  return {
    json,
    result(obj, human) {
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
