// One sentence per found dump, the same in the CLI and the app:
// "partition 2 'swap': amd64 dump, 63 MiB, crashed 2026-11-02 14:03 UTC, not yet saved".

import type { DumpDetails } from './inspect.ts';
import type { LocatedDump } from './locate.ts';

export function sizeText(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${bytes} bytes` : `${v >= 10 || Number.isInteger(v) ? Math.round(v) : v.toFixed(1)} ${units[u]}`;
}

export function utcMinute(sec: number): string {
  return new Date(sec * 1000).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
}

export function dumpSummary(d: LocatedDump, details: DumpDetails | null): string {
  const where = d.partition ? `partition ${d.partition.id}${d.partition.name !== d.partition.id ? ` '${d.partition.name}'` : ''}` : 'whole device';
  const parts = [`${d.machine} dump`, sizeText(d.memoryBytes)];
  if (details?.crashTime) parts.push(`crashed ${utcMinute(details.crashTime)}`);
  if (details) parts.push(details.state === 'not-saved' ? 'not yet saved' : details.state === 'invalidated' ? 'already saved (invalidated)' : 'state unknown');
  return `${where}: ${parts.join(', ')}`;
}
