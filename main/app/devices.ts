// Device discovery for the Open view: which disks and partitions this machine has, whether we may
// read them, and whether a dump header sits at their start. Per-platform listing lives in
// ./devices/; everything is opened read-only.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { DeviceEntry, DeviceList } from '../../contract/results.ts';
import { listLinuxDevices, type RawDevice } from './devices/linux.ts';
import { parseDiskutilList } from './devices/macos.ts';
import { parseDisknames } from './devices/netbsd.ts';
import { probeDevice, type ProbeOutcome } from './devices/probe.ts';
import { parsePowerShellDrives, parseWmicCsv, POWERSHELL_ARGS, WMIC_ARGS } from './devices/windows.ts';

const run = promisify(execFile);
const TOOL_TIMEOUT = { timeout: 10_000, windowsHide: true, maxBuffer: 4 << 20 };

async function rawDevices(platform: NodeJS.Platform): Promise<RawDevice[]> {
  switch (platform) {
    case 'linux':
      return listLinuxDevices();
    case 'darwin':
      return parseDiskutilList((await run('diskutil', ['list', '-plist'], TOOL_TIMEOUT)).stdout);
    case 'win32':
      try {
        return parsePowerShellDrives((await run('powershell.exe', POWERSHELL_ARGS, TOOL_TIMEOUT)).stdout);
      } catch {
        return parseWmicCsv((await run('wmic', WMIC_ARGS, TOOL_TIMEOUT)).stdout);
      }
    case 'netbsd':
      return parseDisknames((await run('sysctl', ['-n', 'hw.disknames'], TOOL_TIMEOUT)).stdout, process.arch);
    default:
      throw new Error(`listing devices is not implemented for ${platform}; type the device path instead`);
  }
}

/** A listed device with what opening it showed; NetBSD's hw.disknames gives no sizes, the device does. */
export function withProbe(d: RawDevice, probe: ProbeOutcome): DeviceEntry {
  const { size, ...rest } = probe;
  return { ...d, ...rest, size: d.size || size };
}

export async function listDevices(platform: NodeJS.Platform = process.platform): Promise<DeviceList> {
  let raw: RawDevice[];
  try {
    raw = await rawDevices(platform);
  } catch (e) {
    return { platform, devices: [], note: `could not list devices: ${(e as Error).message}` };
  }
  const devices = await Promise.all(raw.map(async (d) => withProbe(d, await probeDevice(d.path))));
  const denied = devices.filter((d) => !d.readable).length;
  return {
    platform,
    devices,
    note: denied > 0 ? `${denied} of ${devices.length} devices cannot be read by this user (see each device's hint)` : null,
  };
}
