import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { IoError } from '../../core/errno.ts';
import { describeIoFailure, openSource, permissionHint } from '../../main/sources/node-source.ts';
import { patterned } from '../fixtures/bytes.ts';

let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvmdump-sources-'));
  fs.chmodSync(dir, 0o755); // the EACCES test reads it as another user
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});


function writeTemp(name: string, bytes: Uint8Array): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}

async function expectIoError(promise: Promise<unknown>, errno: string, ...fragments: string[]): Promise<IoError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(IoError);
  const io = error as IoError;
  expect(io.errno).toBe(errno);
  for (const fragment of fragments) expect(io.message).toContain(fragment);
  return io;
}

describe('openSource: regular files', () => {
  it('detects kind file with st_size and identity', async () => {
    const data = patterned(10_000);
    const file = writeTemp('plain.bin', data);
    const src = await openSource(file);
    try {
      const st = fs.statSync(file);
      expect(src.kind).toBe('file');
      expect(src.size).toBe(10_000);
      expect(src.name).toBe(file);
      expect(src.identity).toMatchObject({ path: file, mode: 'file', size: 10_000, ino: st.ino, dev: st.dev });
      expect(src.identity.realPath).toBe(fs.realpathSync(file));
      const buf = new Uint8Array(100);
      expect(await src.pread(buf, 1234)).toBe(100);
      expect(buf).toEqual(data.subarray(1234, 1334));
    } finally {
      await src.close();
    }
  });

  it('returns a short count at EOF and 0 past it', async () => {
    const data = patterned(1000);
    const src = await openSource(writeTemp('short.bin', data));
    try {
      const buf = new Uint8Array(300);
      expect(await src.pread(buf, 900)).toBe(100);
      expect(buf.subarray(0, 100)).toEqual(data.subarray(900));
      expect(await src.pread(buf, 1000)).toBe(0);
      expect(await src.pread(buf, 5000)).toBe(0);
    } finally {
      await src.close();
    }
  });

  it('reads a sparse 4 GiB file at high offsets quickly', async () => {
    const file = path.join(dir, 'sparse.bin');
    const size = 4 * 1024 ** 3 + 4096;
    fs.closeSync(fs.openSync(file, 'w'));
    fs.truncateSync(file, size);
    const marker = Uint8Array.from([0xde, 0xad, 0xbe, 0xef]);
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, marker, 0, 4, size - 10);
    fs.closeSync(fd);
    const src = await openSource(file);
    try {
      expect(src.size).toBe(size);
      const started = performance.now();
      const buf = new Uint8Array(16);
      expect(await src.pread(buf, size - 16)).toBe(16);
      expect(Array.from(buf.subarray(6, 10))).toEqual([0xde, 0xad, 0xbe, 0xef]);
      expect(await src.pread(buf, 3 * 1024 ** 3)).toBe(16);
      expect(buf.every((b) => b === 0)).toBe(true);
      expect(await src.pread(buf, size - 4)).toBe(4);
      expect(performance.now() - started).toBeLessThan(1000);
    } finally {
      await src.close();
    }
  });

  it('refuses writes when opened read-only, and writes when writable', async () => {
    const file = writeTemp('rw.bin', patterned(2048));
    const ro = await openSource(file);
    expect(ro.pwrite).toBeUndefined();
    await ro.close();

    const rw = await openSource(file, { writable: true });
    try {
      expect(typeof rw.pwrite).toBe('function');
      expect(await rw.pwrite!(Uint8Array.from([1, 2, 3]), 100)).toBe(3);
      expect(Array.from(fs.readFileSync(file).subarray(100, 103))).toEqual([1, 2, 3]);
      await rw.pwrite!(new Uint8Array(10), 2048); // extends the file
      expect(rw.size).toBe(2058);
    } finally {
      await rw.close();
    }
  });

  it('reports ENOENT naming the path, and EBADF after close', async () => {
    const missing = path.join(dir, 'nope.bin');
    await expectIoError(openSource(missing), 'ENOENT', missing, 'No such file or directory');
    const src = await openSource(writeTemp('closed.bin', patterned(10)));
    await src.close();
    await expectIoError(src.pread(new Uint8Array(1), 0), 'EBADF', 'closed.bin');
  });

  it('rejects a directory with EISDIR', async () => {
    await expectIoError(openSource(dir), 'EISDIR', dir);
  });

  it('forced chardev kind does aligned bounce reads and read-modify-write on a file', async () => {
    const data = patterned(4096 + 300);
    const file = writeTemp('as-chardev.bin', data);
    const src = await openSource(file, { kind: 'chardev', writable: true });
    try {
      expect(src.kind).toBe('chardev');
      expect(src.identity.mode).toBe('file');
      for (const [offset, length] of [[1, 1], [511, 2], [500, 1100], [1024, 512], [4000, 500], [4396, 10]]) {
        const buf = new Uint8Array(length);
        const expected = data.subarray(offset, offset + length);
        expect(await src.pread(buf, offset)).toBe(expected.length);
        expect(buf.subarray(0, expected.length)).toEqual(expected);
      }
      const patch = Uint8Array.from([9, 8, 7, 6, 5]);
      expect(await src.pwrite!(patch, 510)).toBe(5);
      const after = fs.readFileSync(file);
      expect(Array.from(after.subarray(508, 517))).toEqual([data[508], data[509], 9, 8, 7, 6, 5, data[515], data[516]]);
      expect(after.length).toBe(data.length);
    } finally {
      await src.close();
    }
  });
});

describe('openSource: devices', () => {
  it('detects /dev/zero as a chardev and serves unaligned reads', async () => {
    if (!fs.existsSync('/dev/zero')) return;
    const src = await openSource('/dev/zero');
    try {
      expect(src.kind).toBe('chardev');
      expect(src.identity.mode).toBe('chardev');
      expect(src.size).toBe(0); // unbounded: unknown
      const buf = new Uint8Array(1000).fill(0xff);
      expect(await src.pread(buf, 7)).toBe(1000);
      expect(buf.every((b) => b === 0)).toBe(true);
    } finally {
      await src.close();
    }
  });

  it('detects /dev/null as a chardev of size 0 that reads EOF', async () => {
    if (!fs.existsSync('/dev/null')) return;
    const src = await openSource('/dev/null');
    try {
      expect(src.kind).toBe('chardev');
      expect(src.size).toBe(0);
      expect(await src.pread(new Uint8Array(10), 3)).toBe(0);
    } finally {
      await src.close();
    }
  });

  const blockDevice = findReadableBlockDevice();
  it.skipIf(!blockDevice)(`detects a block device (${blockDevice?.path ?? 'none readable: skipped'})`, async () => {
    const { path: device, sysfsBytes } = blockDevice!;
    const src = await openSource(device);
    try {
      expect(src.kind).toBe('blockdev');
      expect(src.identity.mode).toBe('blockdev');
      expect(src.size).toBe(sysfsBytes);
      const buf = new Uint8Array(4096);
      expect(await src.pread(buf, 0)).toBe(Math.min(4096, src.size)); // an unbound loop device reads EOF
    } finally {
      await src.close();
    }
  });
});

/** A block device we can open read-only, preferring one with data (e.g. a VM disk as root). */
function findReadableBlockDevice(): { path: string; sysfsBytes: number } | null {
  if (process.platform !== 'linux') return null;
  let names: string[];
  try {
    names = fs.readdirSync('/sys/class/block');
  } catch {
    return null;
  }
  const openable: { path: string; sysfsBytes: number }[] = [];
  for (const name of names.sort()) {
    const device = `/dev/${name}`;
    try {
      const sectors = Number(fs.readFileSync(`/sys/class/block/${name}/size`, 'utf8').trim());
      if (!fs.statSync(device).isBlockDevice()) continue;
      fs.closeSync(fs.openSync(device, 'r'));
      openable.push({ path: device, sysfsBytes: sectors * 512 });
    } catch {
      continue; // e.g. EPERM from a container's device cgroup
    }
  }
  return openable.find((d) => d.sysfsBytes > 0) ?? openable[0] ?? null;
}

describe('permission errors', () => {
  it('builds a message that names the path and explains how to get access', () => {
    const linux = describeIoFailure('/dev/rwd0d', 'open', 'EACCES', undefined, 'linux', false);
    expect(linux).toContain('/dev/rwd0d: open: Permission denied');
    expect(linux).toMatch(/sudo/);
    expect(linux).toMatch(/'disk' group/);
    const bsd = describeIoFailure('/dev/rwd0d', 'read', 'EACCES', 512, 'netbsd', false);
    expect(bsd).toContain('/dev/rwd0d: read at offset 512: Permission denied');
    expect(bsd).toMatch(/'operator' group/);
  });

  // Issue 14 item 6: root refused with EPERM was told to join the 'disk' group.
  it('EPERM, or any refusal as root, is a security policy: no group advice', () => {
    const perm = describeIoFailure('/dev/sdb', 'open', 'EPERM', undefined, 'linux', true);
    expect(perm).toContain('/dev/sdb: open: Operation not permitted');
    expect(perm).toMatch(/security policy denies raw access.*even as root/);
    expect(perm).toMatch(/container|SELinux|AppArmor/);
    expect(perm).not.toMatch(/group \(|usermod|'disk' group/);
    expect(describeIoFailure('/dev/sdb', 'open', 'EPERM', undefined, 'linux', false)).toMatch(/group membership cannot help/);
    expect(describeIoFailure('/dev/rdisk4', 'open', 'EPERM', undefined, 'darwin', false)).toMatch(/Full Disk Access/);
    expect(permissionHint('x', 'win32')).toMatch(/Administrator/);
    expect(describeIoFailure('/f', 'read', 'EIO', 4096)).toBe('/f: read at offset 4096: Input/output error');
  });

  const isRoot = process.getuid?.() === 0;
  const canDropPrivileges = isRoot && typeof process.seteuid === 'function';
  const canTestAsUser = process.platform !== 'win32' && (!isRoot || canDropPrivileges);
  it.skipIf(!canTestAsUser)('opening a mode-000 file as a non-root user gives EACCES with the hint', async () => {
    const file = writeTemp('locked.bin', patterned(16));
    fs.chmodSync(file, 0o000);
    // Root bypasses permissions, so drop to "nobody" for the open (this worker process only).
    if (isRoot) process.seteuid!(65534);
    let outcome: Promise<unknown>;
    try {
      outcome = openSource(file);
      await outcome.then(
        (src) => (src as { close(): Promise<void> }).close(),
        () => undefined,
      );
    } finally {
      if (isRoot) process.seteuid!(0);
    }
    const error = await expectIoError(outcome, 'EACCES', file, 'Permission denied');
    expect(error.message).toMatch(/sudo|Administrator/);
  });
});

describe('Windows raw disks', () => {
  it('are recognised by their device path, so they get raw-device (sector-aligned) reads', async () => {
    const { isWindowsDevicePath } = await import('../../main/sources/node-source.ts');
    for (const p of ['\\\\.\\PhysicalDrive0', '//./PhysicalDrive1', '\\\\.\\C:', '\\\\?\\GLOBALROOT\\Device\\Harddisk0\\Partition1']) {
      expect([p, isWindowsDevicePath(p, 'win32')]).toEqual([p, true]);
    }
    for (const p of ['C:\\dumps\\dump.img', '\\\\?\\C:\\very\\long\\path\\dump.img', '\\\\server\\share\\dump.img']) {
      expect([p, isWindowsDevicePath(p, 'win32')]).toEqual([p, false]);
    }
    expect(isWindowsDevicePath('\\\\.\\PhysicalDrive0', 'linux')).toBe(false);
  });
});
