// The savecore job (main/jobs/savecore) as the app's SavecoreRunner: the Export view's choices
// become savecore options, its progress events become job progress, its outcome becomes the job's
// result. The dump is left valid unless the user asked for invalidation (and writes are allowed).

import { runSavecore } from '../../jobs/savecore/job.ts';
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
  return { outputs: [core, kernel, manifest, ...(report ? [report] : [])], message: result.status };
};
