// Timing helpers shared by the figures: whole-process wall time, A and B alternating, medians.
import { spawnSync } from 'node:child_process';

export const BIN = new URL('../../bin/kvmdump.mjs', import.meta.url).pathname;

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Run a command (argv array, or a string for sh -c) and return its wall time in seconds; throws on failure. */
export function timeCommand(cmd, { before, env } = {}) {
  before?.();
  const [file, args] = typeof cmd === 'string' ? ['sh', ['-c', cmd]] : [cmd[0], cmd.slice(1)];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(file, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${Array.isArray(cmd) ? cmd.join(' ') : cmd}: exit ${r.status}: ${String(r.stderr).slice(-400)}`);
  return s;
}

/**
 * ours and each peer run alternately `runs` times (after one warm-up each); medians in seconds.
 * Each entry: { name, cmd, before? }.
 */
export function alternate(entries, runs) {
  const times = Object.fromEntries(entries.map((e) => [e.name, []]));
  for (const e of entries) timeCommand(e.cmd, e); // warm-up: page cache, JIT of the CLI
  for (let i = 0; i < runs; i++) for (const e of entries) times[e.name].push(timeCommand(e.cmd, e));
  return Object.fromEntries(entries.map((e) => [e.name, median(times[e.name])]));
}

export function record(figure, ours, peer, target, extra = {}) {
  const ratio = peer / ours;
  return { figure, ours: round(ours), peer: round(peer), ratio: round(ratio), target, pass: ratio >= target, unit: 's', ...extra };
}

const round = (x) => Math.round(x * 1000) / 1000;
