// `kvmdump serve`: start the handler layer and the loopback server, open the requested (or bundled
// sample) dump, print the URL, and run until interrupted; dumps are closed on the way out.

import { spawn } from 'node:child_process';
import { createHandlers } from '../app/handlers.ts';
import { defaultUserDataDir, packageVersion } from '../app/paths.ts';
import { openAtStartup, type DumpRequest } from '../app/startup.ts';
import { startServer } from './server.ts';

export interface ServeCommandOptions {
  port: number;
  host: string;
  open: boolean;
  allowWrite: boolean;
  request: DumpRequest | null;
  /** Open the bundled sample when no dump is given (npm start's fallback does). */
  sample: boolean;
}

function openBrowser(url: string): void {
  const [cmd, args] = process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url]] : ['xdg-open', [url]];
  spawn(cmd, args, { stdio: 'ignore', detached: true }).on('error', () => undefined).unref();
}

/** How long serve waits for jobs and dumps to close after SIGTERM/SIGINT before it exits regardless. */
const SHUTDOWN_GRACE_MS = 3000;

export async function serveCommand(o: ServeCommandOptions, signal?: AbortSignal): Promise<number> {
  const handlers = createHandlers({
    mode: 'serve', userDataDir: defaultUserDataDir(), allowWrite: o.allowWrite, version: packageVersion(),
    onInternalError: (op, e) => process.stderr.write(`kvmdump serve: ${op}: ${e instanceof Error ? e.stack : String(e)}\n`),
  });
  const running = await startServer({ handlers, port: o.port, host: o.host });
  const { message } = await openAtStartup(handlers, o.request, o.sample);
  if (message) process.stderr.write(`kvmdump serve: ${message}\n`);
  process.stdout.write(`kvmdump workbench: ${running.url}\n`);
  if (!o.allowWrite) process.stdout.write('read-only: kvm_dump_inval is refused (start with --allow-write to permit it)\n');
  if (o.open) openBrowser(running.url);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    signal?.addEventListener('abort', stop, { once: true });
  });
  // A second signal while shutting down means now; a shutdown that hangs on a device ends anyway.
  const now = () => process.exit(130);
  process.once('SIGINT', now);
  process.once('SIGTERM', now);
  const cleanup = (async () => {
    await running.close();
    await handlers.shutdown();
  })();
  const gaveUp = await Promise.race([
    cleanup.then(() => false),
    new Promise<boolean>((r) => setTimeout(() => r(true), SHUTDOWN_GRACE_MS).unref()),
  ]);
  process.removeListener('SIGINT', now);
  process.removeListener('SIGTERM', now);
  if (gaveUp) {
    process.stderr.write(`kvmdump serve: stopped after ${SHUTDOWN_GRACE_MS} ms without waiting for the rest of the shutdown\n`);
    process.exit(0); // a read stuck on a device must not keep the process alive
  }
  return 0;
}
