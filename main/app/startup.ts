// What the app opens when it starts: the dump named on the command line, else the bundled sample
// (build/sample/: kernel `netbsd`, `dump.img.gz`, and `sample.json` with the dump offset). When
// neither is there, a message for the Open view says so instead of failing.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MachineName } from '../../core/machines/machine.ts';
import type { Handlers } from './handlers.ts';
import { packageRoot } from './paths.ts';

export interface DumpRequest {
  kernelPath?: string;
  dumpPath: string;
  dumpOffset?: number;
  machine?: MachineName;
}

/** --kernel K --dump D [--dump-offset N] [--allow-write] from an argv (Electron passes its own flags too). */
export function parseStartupArgs(argv: readonly string[]): { request: DumpRequest | null; allowWrite: boolean; error: string | null } {
  const value = (flag: string) => {
    const i = argv.findIndex((a) => a === flag || a.startsWith(`${flag}=`));
    if (i < 0) return undefined;
    return argv[i]!.includes('=') ? argv[i]!.slice(flag.length + 1) : argv[i + 1];
  };
  const allowWrite = argv.includes('--allow-write');
  const dump = value('--dump');
  const kernel = value('--kernel');
  const offset = value('--dump-offset');
  if (!dump) return { request: null, allowWrite, error: kernel || offset ? '--kernel and --dump-offset need --dump' : null };
  if (offset !== undefined && !/^(0x[0-9a-f]+|\d+)$/i.test(offset)) {
    return { request: null, allowWrite, error: `--dump-offset: '${offset}' is not a number (use decimal or 0x-hex)` };
  }
  return { request: { dumpPath: dump, kernelPath: kernel, dumpOffset: offset === undefined ? undefined : Number(BigInt(offset)) }, allowWrite, error: null };
}

/** The bundled sample, or why it cannot be used. */
export function findSample(root = packageRoot()): { request: DumpRequest } | { missing: string } {
  // Packaged apps keep the sample beside app.asar (asarUnpack), where it can be opened like any file.
  const unpacked = root.replace(/app\.asar$/, 'app.asar.unpacked');
  const dir = join(existsSync(join(unpacked, 'build', 'sample')) ? unpacked : root, 'build', 'sample');
  const metaPath = join(dir, 'sample.json');
  if (!existsSync(metaPath)) return { missing: `The bundled sample dump is missing (${metaPath} not found). Open a dump with --kernel K --dump D, or pick one below.` };
  let meta: Record<string, unknown>;
  try {
    meta = JSON.parse(readFileSync(metaPath, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    return { missing: `The bundled sample's ${metaPath} is not valid JSON: ${(e as Error).message}` };
  }
  const str = (k: string, dflt: string) => (typeof meta[k] === 'string' ? (meta[k] as string) : dflt);
  const offset = [meta.dumpOffset, meta.dump_offset, typeof meta.dumplo === 'number' ? meta.dumplo * 512 : undefined]
    .find((v): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0);
  const kernelPath = join(dir, str('kernel', 'netbsd'));
  const dumpPath = join(dir, str('dump', 'dump.img.gz'));
  for (const p of [kernelPath, dumpPath]) if (!existsSync(p)) return { missing: `The bundled sample is incomplete: ${p} not found.` };
  return { request: { kernelPath, dumpPath, dumpOffset: offset } };
}

/** Open the requested (or sample) dump through the handler layer and record the outcome for appInfo. */
export async function openAtStartup(
  handlers: Handlers, request: DumpRequest | null, useSample: boolean, sampleRoot?: string,
): Promise<{ sessionId: string | null; message: string | null }> {
  let req = request;
  let message: string | null = null;
  if (!req && useSample) {
    const sample = findSample(sampleRoot);
    if ('missing' in sample) message = sample.missing;
    else req = sample.request;
  }
  let sessionId: string | null = null;
  if (req) {
    const r = await handlers.invoke('openDump', req);
    if (r.ok) sessionId = r.value.sessionId;
    else message = `Could not open ${req.dumpPath}: ${r.error.message}`;
  }
  handlers.setStartup({ initialSessionId: sessionId, startupMessage: message });
  return { sessionId, message };
}
