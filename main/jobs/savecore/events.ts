// What a running savecore job tells its caller: savecore's syslog lines (the CLI prints them on
// stderr, as LOG_PERROR does), the -v stdout line, progress for bars, and phase changes.

import type { ScanCandidate } from '../../../core/scan.ts';

/** syslog priorities savecore uses. */
export type LogPriority = 'alert' | 'err' | 'warning' | 'notice' | 'info';

export type SavecorePhase = 'scan' | 'check' | 'symbols' | 'core' | 'kernel' | 'verify' | 'report' | 'manifest' | 'invalidate' | 'done';

export type SavecoreEvent =
  | { type: 'log'; priority: LogPriority; message: string }
  /** What savecore prints on stdout (the -v dumplo line). */
  | { type: 'stdout'; text: string }
  | { type: 'phase'; phase: SavecorePhase }
  | { type: 'candidates'; candidates: ScanCandidate[] }
  | {
      type: 'progress';
      phase: 'scan' | 'symbols' | 'core' | 'kernel' | 'verify';
      done: number;
      total: number;
      bytesPerSecond: number;
      /** Seconds left at the current rate; null while unknown. */
      etaSeconds: number | null;
    };

export type EventSink = (e: SavecoreEvent) => void;

/** Rate and ETA for one phase; events are throttled so a UI is not flooded. */
export class ProgressMeter {
  private readonly start = performance.now();
  private lastEmit = 0;
  constructor(
    private readonly emit: EventSink,
    private readonly phase: 'scan' | 'symbols' | 'core' | 'kernel' | 'verify',
    private readonly total: number,
    private readonly intervalMs = 200,
  ) {}

  update(done: number, force = false): void {
    const t = performance.now();
    if (!force && t - this.lastEmit < this.intervalMs) return;
    this.lastEmit = t;
    const seconds = Math.max((t - this.start) / 1000, 1e-6);
    const rate = done / seconds;
    const eta = rate > 0 && this.total > 0 ? Math.max(0, (this.total - done) / rate) : null;
    this.emit({ type: 'progress', phase: this.phase, done, total: this.total, bytesPerSecond: rate, etaSeconds: eta });
  }
}
