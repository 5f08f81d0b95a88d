// Device discovery: each platform's listing parsed from real-shaped tool output (or a fake sysfs
// tree), and the cheap header probe on a real dump image.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { MemorySource } from '../../core/source.ts';
import { listLinuxDevices } from '../../main/app/devices/linux.ts';
import { parseDiskutilList } from '../../main/app/devices/macos.ts';
import { parseDisknames } from '../../main/app/devices/netbsd.ts';
import { parsePlist } from '../../main/app/devices/plist.ts';
import { probeDevice, probeSource, PROBE_WINDOW } from '../../main/app/devices/probe.ts';
import { withProbe } from '../../main/app/devices.ts';
import { parsePowerShellDrives, parseWmicCsv } from '../../main/app/devices/windows.ts';
import { writeDumpFiles } from './helpers/dump-files.ts';

const tmp = mkdtempSync(join(tmpdir(), 'kvmdump-devices-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function put(path: string, text: string) {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
}

describe('linux (sysfs)', () => {
  test('disks with model, size, removable and their partitions; empty and RAM devices skipped', async () => {
    const sys = join(tmp, 'sys-block');
    put(join(sys, 'sda', 'size'), '1953525168\n');
    put(join(sys, 'sda', 'removable'), '0\n');
    put(join(sys, 'sda', 'device', 'model'), 'Samsung SSD 860 \n');
    put(join(sys, 'sda', 'sda1', 'partition'), '1\n');
    put(join(sys, 'sda', 'sda1', 'size'), '2048\n');
    put(join(sys, 'sda', 'sda10', 'partition'), '10\n');
    put(join(sys, 'sda', 'sda10', 'size'), '4096\n');
    put(join(sys, 'sda', 'sda2', 'partition'), '2\n');
    put(join(sys, 'sda', 'sda2', 'size'), '4096\n');
    put(join(sys, 'sdb', 'size'), '31116288\n');
    put(join(sys, 'sdb', 'removable'), '1\n');
    put(join(sys, 'loop0', 'size'), '0\n');
    put(join(sys, 'ram0', 'size'), '8192\n');
    const list = await listLinuxDevices(sys, '/dev');
    expect(list.map((d) => d.path)).toEqual(['/dev/sda', '/dev/sda1', '/dev/sda2', '/dev/sda10', '/dev/sdb']);
    expect(list[0]).toMatchObject({ kind: 'disk', size: 1953525168 * 512, model: 'Samsung SSD 860', removable: false });
    expect(list[1]).toMatchObject({ kind: 'partition', size: 2048 * 512, parent: '/dev/sda' });
    expect(list[4]).toMatchObject({ removable: true, model: null });
  });
});

const DISKUTIL = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>AllDisks</key><array><string>disk0</string><string>disk0s1</string><string>disk4</string><string>disk4s1</string></array>
  <key>AllDisksAndPartitions</key>
  <array>
    <dict>
      <key>Content</key><string>GUID_partition_scheme</string>
      <key>DeviceIdentifier</key><string>disk0</string>
      <key>OSInternal</key><false/>
      <key>Partitions</key>
      <array>
        <dict><key>Content</key><string>EFI</string><key>DeviceIdentifier</key><string>disk0s1</string><key>Size</key><integer>209715200</integer></dict>
      </array>
      <key>Size</key><integer>500277790720</integer>
    </dict>
    <dict>
      <key>Content</key><string>NetBSD &amp; friends</string>
      <key>DeviceIdentifier</key><string>disk4</string>
      <key>Partitions</key>
      <array>
        <dict><key>Content</key><string>NetBSD swap</string><key>DeviceIdentifier</key><string>disk4s1</string><key>Size</key><integer>2147483648</integer></dict>
      </array>
      <key>Size</key><integer>32017047552</integer>
    </dict>
  </array>
  <key>VolumesFromDisks</key><array/>
</dict>
</plist>`;

describe('macOS (diskutil list -plist)', () => {
  test('plist values', () => {
    expect(parsePlist('<plist><dict><key>a</key><integer>5</integer><key>b</key><true/><key>c</key><array><string>x&lt;y</string></array><key>d</key><dict/></dict></plist>'))
      .toEqual({ a: 5, b: true, c: ['x<y'], d: {} });
  });
  test('raw disk nodes with partitions', () => {
    const list = parseDiskutilList(DISKUTIL);
    expect(list.map((d) => d.path)).toEqual(['/dev/rdisk0', '/dev/rdisk0s1', '/dev/rdisk4', '/dev/rdisk4s1']);
    expect(list[2]).toMatchObject({ kind: 'disk', size: 32017047552, model: null }); // Content is the scheme, not a model
    expect(list[3]).toMatchObject({ kind: 'partition', parent: '/dev/rdisk4', model: 'NetBSD swap' });
  });
});

describe('Windows', () => {
  test('PowerShell JSON (one object or an array)', () => {
    const one = parsePowerShellDrives('{"DeviceID":"\\\\\\\\.\\\\PHYSICALDRIVE0","Model":"WDC WD10","Size":1000204886016,"MediaType":"Fixed hard disk media"}');
    expect(one).toEqual([{ path: '\\\\.\\PhysicalDrive0', name: 'PhysicalDrive0', kind: 'disk', size: 1000204886016, model: 'WDC WD10', removable: false, parent: null }]);
    const two = parsePowerShellDrives('[{"DeviceID":"\\\\\\\\.\\\\PHYSICALDRIVE0","Size":1},{"DeviceID":"\\\\\\\\.\\\\PHYSICALDRIVE2","MediaType":"Removable Media","Size":2}]');
    expect(two.map((d) => [d.name, d.removable])).toEqual([['PhysicalDrive0', null], ['PhysicalDrive2', true]]);
  });
  test('wmic CSV', () => {
    const csv = '\r\n\r\nNode,DeviceID,MediaType,Model,Size\r\nHOST,\\\\.\\PHYSICALDRIVE1,External hard disk media,USB Disk,32017047552\r\n';
    expect(parseWmicCsv(csv)).toEqual([{ path: '\\\\.\\PhysicalDrive1', name: 'PhysicalDrive1', kind: 'disk', size: 32017047552, model: 'USB Disk', removable: true, parent: null }]);
  });
});

describe('NetBSD (hw.disknames)', () => {
  test('raw whole disk per architecture, the swap partition, wedges; no optical or vnd', () => {
    expect(parseDisknames('wd0 cd0 sd0 dk0 vnd0\n', 'x64').map((d) => d.path)).toEqual(['/dev/rwd0d', '/dev/rwd0b', '/dev/rsd0d', '/dev/rsd0b', '/dev/rdk0']);
    expect(parseDisknames('ld0', 'arm64').map((d) => d.path)).toEqual(['/dev/rld0c', '/dev/rld0b']);
  });
});

describe('header probe', () => {
  test('finds the dump header at the start of an image, reading only the first 64 KiB', async () => {
    const files = writeDumpFiles({ seed: 2 });
    try {
      const r = await probeDevice(files.dumpPath);
      expect(r).toMatchObject({ readable: true, accessHint: null, headers: [{ offset: files.dumpOffset, machine: 'amd64' }], size: files.image.size });
    } finally {
      files.cleanup();
    }
  });
  test('reads nothing beyond the window', async () => {
    const bytes = new Uint8Array(PROBE_WINDOW * 4);
    const src = new MemorySource(bytes, 'big', 'file', false);
    let furthest = 0;
    const spy = { ...src, name: src.name, kind: src.kind, size: src.size, pread: async (b: Uint8Array, off: number) => { furthest = Math.max(furthest, off + b.length); return src.pread(b, off); } };
    expect(await probeSource(spy)).toEqual([]);
    expect(furthest).toBeLessThanOrEqual(PROBE_WINDOW);
  });
  test('a path that cannot be opened is unreadable with a reason, not an exception', async () => {
    const r = await probeDevice(join(tmp, 'missing-device'));
    expect(r.readable).toBe(false);
    expect(r.accessHint).toBeTruthy();
  });
});

test('a listing without a size takes the opened device\'s; a listed size is kept', () => {
  const raw = { path: '/dev/rwd0d', name: 'wd0', kind: 'disk' as const, size: 0, model: null, removable: null, parent: null };
  const probe = { readable: true, accessHint: null, headers: [], size: 500107862016 };
  expect(withProbe(raw, probe)).toEqual({ ...raw, readable: true, accessHint: null, headers: [], size: 500107862016 });
  expect(withProbe({ ...raw, size: 4096 }, probe).size).toBe(4096);
  expect(withProbe(raw, { ...probe, readable: false, size: 0 }).size).toBe(0);
});
