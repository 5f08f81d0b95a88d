// Services other parts of the project provide (the savecore job, crash triage), behind small
// adapters in ./adapters/. A service set to null makes its operation answer 'not-available', so
// each is one line to unplug or replace.

import type { Kvm } from '../../core/kvm.ts';
import type { ArchiveSummary, TriageResult } from '../../contract/results.ts';

export interface SavecoreRequest {
  dumpPath: string;
  kernelPath: string | null;
  dumpOffset: number | null;
  /** The partition of dumpPath that is the dump device, or null. */
  partition: string | null;
  outDir: string;
  compress: boolean;
  /** Clear the dump afterwards as savecore(8) does; only asked for when writes are allowed. */
  invalidate: boolean;
  /** savecore -f. */
  force: boolean;
  signal: AbortSignal;
  onProgress(done: number, total: number, message?: string): void;
}

/** Runs savecore(8) for an open dump; resolves to the files it wrote. */
export type SavecoreRunner = (req: SavecoreRequest) => Promise<{ outputs: string[]; message?: string; archive?: ArchiveSummary }>;
/** Builds the crash summary (version, panic, message buffer) from an open handle. */
export type TriageRunner = (kd: Kvm, opts: { lines?: number; dumpOffset?: number; dumpName?: string }) => Promise<TriageResult>;

export interface OptionalServices {
  /** Loaded lazily so a missing or slow module never delays start-up. */
  savecore: (() => Promise<SavecoreRunner>) | null;
  triage: (() => Promise<TriageRunner>) | null;
}

export const builtinServices: OptionalServices = {
  // Set either to null to build without it: its operation then answers 'not-available'.
  savecore: () => import('./adapters/savecore.ts').then((m) => m.savecoreRunner),
  triage: () => import('./adapters/triage.ts').then((m) => m.triageRunner),
};
