// Windows physical drives (\\.\PhysicalDriveN), best effort: PowerShell's CIM query first, then the
// older wmic. Partitions are not listed: a NetBSD swap partition has no Windows volume to open.

import type { RawDevice } from './linux.ts';

interface DriveRecord {
  DeviceID?: unknown;
  Model?: unknown;
  Size?: unknown;
  MediaType?: unknown;
}

export const POWERSHELL_ARGS = [
  '-NoProfile', '-NonInteractive', '-Command',
  'Get-CimInstance Win32_DiskDrive | Select-Object DeviceID,Model,Size,MediaType | ConvertTo-Json -Compress',
];
export const WMIC_ARGS = ['diskdrive', 'get', 'DeviceID,MediaType,Model,Size', '/format:csv'];

function toDevice(r: DriveRecord): RawDevice | null {
  const id = typeof r.DeviceID === 'string' ? r.DeviceID : '';
  const m = /PHYSICALDRIVE(\d+)/i.exec(id);
  if (!m) return null;
  const media = typeof r.MediaType === 'string' ? r.MediaType : '';
  return {
    path: `\\\\.\\PhysicalDrive${m[1]}`, name: `PhysicalDrive${m[1]}`, kind: 'disk',
    size: Number(r.Size ?? 0) || 0, model: typeof r.Model === 'string' && r.Model ? r.Model : null,
    removable: media ? /removable|external/i.test(media) : null, parent: null,
  };
}

export function parsePowerShellDrives(json: string): RawDevice[] {
  const parsed: unknown = JSON.parse(json || '[]');
  const list = Array.isArray(parsed) ? parsed : [parsed];
  return list.map((r) => toDevice((r ?? {}) as DriveRecord)).filter((d): d is RawDevice => d !== null);
}

/** wmic /format:csv: a blank line, then "Node,DeviceID,MediaType,Model,Size" and one row per drive. */
export function parseWmicCsv(csv: string): RawDevice[] {
  const lines = csv.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const header = lines.shift()?.split(',') ?? [];
  return lines
    .map((line) => {
      const cells = line.split(',');
      const rec: Record<string, string> = {};
      header.forEach((h, i) => (rec[h] = cells[i] ?? ''));
      return toDevice(rec);
    })
    .filter((d): d is RawDevice => d !== null);
}
