// The savecore job (main/jobs/savecore) as the app's SavecoreRunner: the Export view's choices
// become savecore options, its progress events become job progress, its outcome becomes the job's
// result. The dump is left valid unless the user asked for invalidation (and writes are allowed).

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ArchiveSummary } from '../../../contract/results.ts';
import { runSavecore, type SavecoreResult } from '../../jobs/savecore/job.ts';
import type { SavecoreRequest, SavecoreRunner } from '../services.ts';

/** Where each phase sits on the job's one progress scale (per mille), in the order they run. */
function progressPlan(invalidate: boolean): Record<string, [number, number]> {
  return invalidate
    ? { check: [0, 20], symbols: [20, 40], core: [40, 400], kernel: [400, 440], verify: [440, 700], report: [700, 720], manifest: [720, 740], invalidate: [740, 1000] }
    : { check: [0, 20], symbols: [20, 40], core: [40, 500], kernel: [500, 550], verify: [550, 950], report: [950, 970], manifest: [970, 1000] };
}

const PHASE_WORDS: Record<string, string> = {
  check: 'checking the dump', symbols: 'finding the kernel\'s symbols', core: 'core: copying memory', kernel: 'kernel: copying',
  verify: 'verify: reading the archive back', report: 'writing the report', manifest: 'writing the manifest',
  invalidate: 'invalidate: re-reading the dump, then clearing dumpmag',
};

function human(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/**
 * One progress over the whole export, never going back: each phase of the job fills its share of a
 * per-mille scale, and the message names the phase with bytes, rate and time left.
 */
export class ExportProgress {
  private readonly plan: Record<string, [number, number]>;
  private phase = 'check';
  private shown = 0;
  constructor(invalidate: boolean, private readonly report: (done: number, total: number, message: string) => void) {
    this.plan = progressPlan(invalidate);
  }
  enter(phase: string): void {
    if (!(phase in this.plan)) return;
    this.phase = phase;
    this.show(this.plan[phase]![0], PHASE_WORDS[phase] ?? phase);
  }
  /**
   * Bytes of the phase the event names. The kernel copy and the read-back have no phase event of
   * their own: their first bytes move the job on. A phase that comes earlier in the plan (the
   * read-back of the dump inside 'invalidate') stays inside the current one.
   */
  bytes(phase: string, done: number, total: number, bytesPerSecond: number, etaSeconds: number | null): void {
    const own = this.plan[phase];
    const current = this.plan[this.phase];
    if (own && current && own[0] > current[0]) this.phase = phase;
    const [from, to] = this.plan[this.phase] ?? [this.shown, this.shown];
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const rate = bytesPerSecond > 0 ? `, ${human(bytesPerSecond)}/s` : '';
    const left = etaSeconds !== null ? `, ${clock(etaSeconds)} left` : '';
    this.show(from + (to - from) * frac, `${PHASE_WORDS[this.phase] ?? this.phase}: ${human(done)} of ${human(total)}${rate}${left}`);
  }
  private show(permille: number, message: string): void {
    this.shown = Math.max(this.shown, Math.floor(permille));
    this.report(this.shown, 1000, message);
  }
}

export const savecoreRunner: SavecoreRunner = async (req: SavecoreRequest) => {
  const progress = new ExportProgress(req.invalidate, (done, total, message) => req.onProgress(done, total, message));
  const result = await runSavecore(
    {
      directory: req.outDir,
      device: req.dumpPath,
      kernel: req.kernelPath,
      dumpOffset: req.dumpOffset ?? undefined,
      ...(req.partition ? { partition: req.partition } : {}),
      compress: req.compress,
      keep: !req.invalidate,
      force: req.force,
    },
    {
      signal: req.signal,
      onEvent: (e) => {
        if (e.type === 'phase') progress.enter(e.phase);
        else if (e.type === 'progress') progress.bytes(e.phase, e.done, e.total, e.bytesPerSecond, e.etaSeconds);
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
    ...(result.invalidation?.status === 'invalidated' && result.invalidation.offset !== null && result.invalidation.length !== null
      ? { invalidationWrite: { offset: result.invalidation.offset, length: result.invalidation.length } }
      : {}),
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
