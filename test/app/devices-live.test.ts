// The real device listing on this machine, and a dump on a real block device: a fixture image
// attached to a loop device (root only; skipped with the reason otherwise) is listed, readable,
// with its dump header found by the probe, and opens through the same path the app uses.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { listDevices } from '../../main/app/devices.ts';
import { openDump } from '../../main/session/open-dump.ts';
import { writeDumpFiles, type DumpFiles } from './helpers/dump-files.ts';

const linux = process.platform === 'linux' && existsSync('/sys/block');

describe.skipIf(!linux)('listDevices on this Linux machine', () => {
  test('every disk sysfs shows with a size appears, with that size', async () => {
    const list = await listDevices('linux');
    const disks = readdirSync('/sys/block')
      .filter((n) => !/^(ram|zram|fd|sr|dm-|md)\d*/.test(n))
      .filter((n) => Number(readFileSync(`/sys/block/${n}/size`, 'utf8')) > 0);
    for (const n of disks) {
      const entry = list.devices.find((d) => d.path === `/dev/${n}`);
      expect(entry, n).toBeDefined();
      expect(entry!.size).toBe(Number(readFileSync(`/sys/block/${n}/size`, 'utf8')) * 512);
    }
  });
});

function attachLoop(file: string): string | null {
  try {
    return execFileSync('losetup', ['--find', '--show', '--read-only', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch {
    return null;
  }
}

const canLoop = linux && process.getuid?.() === 0 && existsSync('/usr/sbin/losetup');

describe.skipIf(!canLoop)('a dump on a loop device (root)', () => {
  let files: DumpFiles;
  let loop: string | null = null;

  beforeAll(() => {
    files = writeDumpFiles({ seed: 9 });
    loop = attachLoop(files.dumpPath);
    if (!loop) console.log('skipped: losetup could not attach a loop device here');
  });

  afterAll(() => {
    if (loop) execFileSync('losetup', ['--detach', loop]);
    files?.cleanup();
  });

  test('listed as a readable block device with the dump header at its start, and it opens', async (ctx) => {
    if (!loop) return ctx.skip();
    const list = await listDevices('linux');
    const entry = list.devices.find((d) => d.path === loop);
    expect(entry).toMatchObject({ kind: 'disk', size: files.image.size, readable: true, headers: [{ offset: files.dumpOffset, machine: 'amd64' }] });
    const opened = await openDump({ kernelPath: files.kernelPath, dumpPath: loop, dumpOffset: files.dumpOffset });
    try {
      expect(opened.rawDump.kind).toBe('blockdev');
      expect(opened.mkheader).toBe(files.image.facts.headerSize);
      const nl = await opened.kd.nlist(['_dumpmag']);
      const mag = new Uint8Array(4);
      expect(await opened.kd.read(nl.entries[0]!.value, mag)).toBe(4);
      expect([...mag]).toEqual([0x01, 0x01, 0xca, 0x8f]);
    } finally {
      await opened.close();
    }
  });
});

