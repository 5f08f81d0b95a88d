// The savecore job (main/jobs/savecore) as the app's SavecoreRunner: the Export view's choices
// become savecore options, its progress events become job progress, its outcome becomes the job's
// result. The dump is left valid unless the user asked for invalidation (and writes are allowed).

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ArchiveSummary } from '../../../contract/results.ts';
import { runSavecore, type SavecoreResult } from '../../jobs/savecore/job.ts';
import type { SavecoreRequest, SavecoreRunner } from '../services.ts';

export const savecoreRunner: SavecoreRunner = async (req: SavecoreRequest) => {
  let last = { done: 0, total: 0 };
  const result = await runSavecore(
    {
      directory: req.outDir,
      device: req.dumpPath,
      kernel: req.kernelPath,
      dumpOffset: req.dumpOffset ?? undefined,
      compress: req.compress,
      keep: !req.invalidate,
    },
    {
      signal: req.signal,
      onEvent: (e) => {
        if (e.type === 'progress') {
          last = { done: e.done, total: e.total };
          req.onProgress(e.done, e.total, e.phase);
        } else if (e.type === 'log' && e.priority !== 'info') {
          req.onProgress(last.done, last.total, e.message);
        }
      },
    },
  );
  if (result.status === 'cancelled') throw new Error('cancelled');
  const problem = [...result.messages].reverse().find((m) => m.priority === 'err' || m.priority === 'alert');
  if (result.exitCode !== 0 || !result.files) throw new Error(problem?.message ?? `savecore: ${result.status}`);
  const { core, kernel, manifest, report } = result.files;
  return { outputs: [core, kernel, ...(manifest ? [manifest] : []), ...(report ? [report] : [])], message: result.status, archive: await archiveSummary(result) };
};

/** The hashes the job computed (core, kernel, report) plus the manifest's, hashed here as written. */
async function archiveSummary(result: SavecoreResult): Promise<ArchiveSummary | undefined> {
  const save = result.save;
  const files = result.files;
  if (!save?.core || !save.kernel || !files || result.bounds === null) return undefined;
  const entry = async (role: ArchiveSummary['files'][number]['role'], path: string) => {
    const bytes = await readFile(path);
    return { role, path, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  };
  return {
    bounds: result.bounds,
    files: [
      { role: 'core', path: save.core.path, size: save.core.size, sha256: save.core.sha256 },
      { role: 'kernel', path: save.kernel.path, size: save.kernel.size, sha256: save.kernel.sha256 },
      ...(files.manifest ? [await entry('manifest', files.manifest)] : []),
      ...(files.report ? [await entry('report', files.report)] : []),
    ],
    memorySha256: save.core.memorySha256,
    verified: Boolean(save.coreVerification?.ok && save.kernelVerification?.ok),
    kernelSource: save.kernel.source,
    invalidation: result.invalidation?.status ?? 'skipped',
  };
}
