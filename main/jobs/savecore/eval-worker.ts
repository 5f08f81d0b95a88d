// Worker threads from inline CommonJS source, so the same code runs from the compiled CLI, from
// vitest (TypeScript sources) and from the Electron main process without a separate worker file.

import { Worker } from 'node:worker_threads';

/**
 * An eval'd worker inherits the parent's flags: under --input-type=module it would run as an ES
 * module, where CommonJS source has no require. That one flag is dropped.
 */
export function evalWorker(source: string): Worker {
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
  return new Worker(source, { eval: true, execArgv });
}
