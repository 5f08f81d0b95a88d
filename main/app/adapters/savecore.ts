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
      force: req.force,
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
  if (result.exitCode !== 0 || !result.files) throw new Error(explainFailure(result));
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

/**
 * A failed or refused export in words a user can act on: what savecore objected to, and what to
 * do about it (savecore's own log lines alone — "reboot" — say neither).
 */
export function explainFailure(result: SavecoreResult): string {
  const reason = result.refusal ?? '';
  const lastError = [...result.messages].reverse().find((m) => m.priority === 'err')?.message;
  if (reason === 'crash time unusable') {
    const when = result.crashTime !== null ? new Date(result.crashTime * 1000).toISOString().replace('.000Z', ' UTC').replace('T', ' ') : 'unreadable';
    return `savecore refused: the crash time (${when}) is more than 60 days from now, or unreadable, so savecore calls the dump time unreasonable. `
      + 'A disk from a machine that crashed long ago is the usual forensic case: tick "Force (savecore -f)" and start again.';
  }
  if (reason === 'not enough free space') return `savecore refused: ${lastError ?? 'not enough free space in the directory'} (minfree). Choose a directory with more room, or force (-f).`;
  if (result.status === 'no-dump') {
    return reason.startsWith('dumpmag')
      ? 'savecore found no dump to save: dumpmag does not hold the magic (the dump was already saved and invalidated, or the kernel does not match it). Force (-f) saves it anyway.'
      : `savecore found no dump to save: ${reason || 'no dump header'}.`;
  }
  const why = lastError ?? reason ?? result.status;
  return `savecore ${result.status === 'refused' ? 'refused' : 'failed'}: ${why}`;
}
