// DumpSource over a real file or disk device. The source *kind* matters to libkvm semantics
// (spec 4.3-4.4): regular files are mapped (size from st_size), character (raw) devices need
// sector-aligned I/O on BSD/macOS, block devices report st_size 0.

import { constants as fsConstants, promises as fsp, readSync, type BigIntStats } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { FileHandle } from 'node:fs/promises';
import { IoError, errnoOf, strerror, type Errno } from '../../core/errno.ts';
import type { DumpSource, SourceKind } from '../../core/source.ts';
import { openImageSet, readOnlyImageError } from './image-set.ts';

/** DEV_BSIZE: the alignment raw character devices demand. */
export const SECTOR_SIZE = 512;
/** Node rejects single reads/writes above 2 GiB; larger requests are split. */
const MAX_IO = 1 << 30;
/**
 * Longest a gather read holds the thread before giving the event loop a turn: the app's main
 * process answers the window while a slow disk is searched.
 */
const GATHER_SLICE_MS = 8;

export interface SourceIdentity {
  readonly path: string;
  readonly realPath: string;
  readonly dev: number;
  readonly ino: number;
  readonly rdev: number;
  readonly mode: SourceKind;
  /** st_size for files; the device size where it could be found, else 0. */
  readonly size: number;
}

export interface NodeSource extends DumpSource {
  readonly identity: SourceIdentity;
  close(): Promise<void>;
}

export interface OpenSourceOptions {
  /** Open O_RDWR instead of O_RDONLY (needed for kvm_dump_inval). */
  writable?: boolean;
  /** Override the detected kind (identity.mode still reports what fstat said). */
  kind?: SourceKind;
}

/** How to get access to a file or device we may not open. */
/**
 * What to do about a refused open. EPERM — and EACCES for root — is not about file permissions: a
 * security policy denies raw access (a container without the device or CAP_SYS_RAWIO, SELinux or
 * AppArmor, macOS Full Disk Access), and joining a group cannot help.
 */
export function permissionHint(
  path: string, platform: string = process.platform, errno: Errno | null = null,
  isRoot: boolean = typeof process.geteuid === 'function' && process.geteuid() === 0,
): string {
  if (platform === 'win32') return `run the workbench as Administrator to read ${path}`;
  if (errno === 'EPERM' || isRoot) {
    const policy = platform === 'darwin'
      ? 'give the terminal or the workbench Full Disk Access (System Settings, Privacy & Security)'
      : 'run it where raw disk access is allowed: a container needs the device passed in (and CAP_SYS_RAWIO), and SELinux or AppArmor must permit it';
    return `${errno === 'EPERM' ? 'EPERM: ' : ''}a security policy denies raw access to ${path}, whatever the file permissions say (${isRoot ? 'even as root' : 'group membership cannot help'}); ${policy}`;
  }
  const groupAdvice =
    platform === 'linux'
      ? `add your user to the 'disk' group (sudo usermod -aG disk $USER) and log in again`
      : `add your user to the 'operator' group that owns disk devices and log in again`;
  return `to get access, run the workbench elevated (e.g. with sudo), or ${groupAdvice}; for a regular file, check its permissions (chmod/chown)`;
}

/** The message for a failed operation: path, operation, offset, NetBSD strerror, and a hint. */
export function describeIoFailure(path: string, operation: string, errno: Errno, offset?: number, platform?: string, isRoot?: boolean): string {
  const where = offset === undefined ? '' : ` at offset ${offset}`;
  const base = `${path}: ${operation}${where}: ${strerror(errno)}`;
  return errno === 'EACCES' || errno === 'EPERM' ? `${base} (${permissionHint(path, platform, errno, isRoot)})` : base;
}

function ioError(path: string, operation: string, e: unknown, offset?: number): IoError {
  if (e instanceof IoError) return e;
  const errno = errnoOf(e);
  return new IoError(errno, describeIoFailure(path, operation, errno, offset));
}

/**
 * Windows raw disks (\\.\PhysicalDriveN, \\.\C:, \\?\GLOBALROOT\…) need sector-aligned I/O like a BSD
 * raw device, whatever fstat says about them (libuv reports them as files of size 0).
 */
export function isWindowsDevicePath(path: string, platform: string = process.platform): boolean {
  // \\?\C:\… is only the long-path prefix of an ordinary file, so \\?\ counts only before a device name.
  return platform === 'win32' && (/^[\\/]{2}\.[\\/]/.test(path) || /^[\\/]{2}\?[\\/](GLOBALROOT|Volume\{|PhysicalDrive)/i.test(path));
}

function kindOf(st: BigIntStats, path: string): SourceKind | null {
  if (isWindowsDevicePath(path)) return 'chardev';
  if (st.isFile()) return 'file';
  if (st.isCharacterDevice()) return 'chardev';
  if (st.isBlockDevice()) return 'blockdev';
  return null;
}

/** Linux dev_t → "major:minor" (glibc's gnu_dev_major/minor encoding). */
function linuxDeviceNumber(rdev: bigint): string {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

/** Linux publishes block device sizes in 512-byte units under /sys/dev/block. */
async function linuxSysfsSize(rdev: bigint): Promise<number | null> {
  if (process.platform !== 'linux') return null;
  try {
    const text = await fsp.readFile(`/sys/dev/block/${linuxDeviceNumber(rdev)}/size`, 'utf8');
    const sectors = Number(text.trim());
    return Number.isSafeInteger(sectors) ? sectors * 512 : null;
  } catch {
    return null;
  }
}

/**
 * Size by probing: does a sector-aligned read at offset k·512 return data? Exponential then
 * binary search, at most ~2·MAX_PROBE_LOG2 reads. Unbounded devices (/dev/zero) give 0 (unknown).
 */
async function probeDeviceSize(readSector: (sector: number) => Promise<number>): Promise<number> {
  const MAX_PROBE_LOG2 = 43; // 2^43 sectors = 4 EiB
  const hasData = async (sector: number) => {
    try {
      return (await readSector(sector)) > 0;
    } catch {
      return false;
    }
  };
  if (!(await hasData(0))) return 0;
  let low = 0; // known to have data
  let high = -1; // known not to (once found)
  for (let log = 0; log <= MAX_PROBE_LOG2; log++) {
    const sector = 2 ** log;
    if (!(await hasData(sector))) {
      high = sector;
      break;
    }
    low = sector;
  }
  if (high < 0) return 0;
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (await hasData(mid)) low = mid;
    else high = mid;
  }
  return high * SECTOR_SIZE;
}

/** Positioned I/O on an open handle, looping over short transfers. */
class HandleIo {
  constructor(
    private readonly handle: FileHandle,
    private readonly path: string,
  ) {}

  /** One read call (split at MAX_IO); returns what the OS returned. */
  async readOnce(buf: Uint8Array, offset: number): Promise<number> {
    try {
      const { bytesRead } = await this.handle.read(buf, 0, Math.min(buf.length, MAX_IO), offset);
      return bytesRead;
    } catch (e) {
      throw ioError(this.path, 'read', e, offset);
    }
  }

  /** pread until buf is full or EOF. */
  async readFully(buf: Uint8Array, offset: number): Promise<number> {
    let done = 0;
    while (done < buf.length) {
      const n = await this.readOnce(buf.subarray(done), offset + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  /**
   * Small reads at many offsets in one synchronous loop on the descriptor: 2–3 µs each from the
   * page cache, where each async read through libuv's pool costs ~18 µs (262 000 sector reads:
   * 0.5 s against 4.7 s). Returns the slots read whole, stopping at a short one or when the
   * time slice is used up.
   */
  readEach(buf: Uint8Array, offsets: readonly number[], length: number): number {
    const until = performance.now() + GATHER_SLICE_MS;
    for (let i = 0; i < offsets.length; i++) {
      if ((i & 63) === 63 && performance.now() > until) return i;
      let n: number;
      try {
        n = readSync(this.handle.fd, buf, i * length, length, offsets[i]!);
      } catch (e) {
        throw ioError(this.path, 'read', e, offsets[i]);
      }
      if (n !== length) return i;
    }
    return offsets.length;
  }

  /**
   * readThrough's loop: whole pieces into one buffer, synchronously, for one time slice. Each piece
   * is filled before it is visited (a short read is continued), so pieces stay whole sectors.
   */
  readThrough(buf: Uint8Array, offset: number, end: number, visit: (piece: Uint8Array, at: number) => void): number {
    const until = performance.now() + GATHER_SLICE_MS;
    let pos = offset;
    while (pos < end) {
      const want = Math.min(buf.length, end - pos);
      let got = 0;
      while (got < want) {
        let n: number;
        try {
          n = readSync(this.handle.fd, buf, got, want - got, pos + got);
        } catch (e) {
          throw ioError(this.path, 'read', e, pos + got);
        }
        if (n <= 0) break;
        got += n;
      }
      if (got > 0) visit(buf.subarray(0, got), pos);
      pos += got;
      if (got < want || performance.now() > until) break;
    }
    return pos;
  }

  async writeFully(buf: Uint8Array, offset: number): Promise<number> {
    let done = 0;
    while (done < buf.length) {
      try {
        const chunk = buf.subarray(done, done + Math.min(buf.length - done, MAX_IO));
        const { bytesWritten } = await this.handle.write(chunk, 0, chunk.length, offset + done);
        if (bytesWritten === 0) throw new IoError('EIO', `${this.path}: write at offset ${offset + done} made no progress`);
        done += bytesWritten;
      } catch (e) {
        throw ioError(this.path, 'write', e, offset + done);
      }
    }
    return done;
  }

  /**
   * Read with every device transfer sector-aligned in offset and length (raw devices on
   * BSD/macOS reject anything else). Aligned middles go straight into buf; ragged ends bounce.
   */
  async readAligned(buf: Uint8Array, offset: number): Promise<number> {
    const bounce = new Uint8Array(SECTOR_SIZE); // per call: concurrent reads must not share it
    let done = 0;
    while (done < buf.length) {
      const pos = offset + done;
      const within = pos % SECTOR_SIZE;
      const left = buf.length - done;
      if (within === 0 && left >= SECTOR_SIZE) {
        const whole = left - (left % SECTOR_SIZE);
        const n = await this.readOnce(buf.subarray(done, done + Math.min(whole, MAX_IO)), pos);
        if (n === 0) break;
        done += n;
        continue;
      }
      const got = await this.readFully(bounce, pos - within);
      const n = Math.min(left, got - within);
      if (n <= 0) break;
      buf.set(bounce.subarray(within, within + n), done);
      done += n;
    }
    return done;
  }

  /** Write whole sectors only: ragged ends are read, patched and written back. */
  async writeAligned(buf: Uint8Array, offset: number): Promise<number> {
    const bounce = new Uint8Array(SECTOR_SIZE);
    let done = 0;
    while (done < buf.length) {
      const pos = offset + done;
      const within = pos % SECTOR_SIZE;
      const left = buf.length - done;
      if (within === 0 && left >= SECTOR_SIZE) {
        const whole = left - (left % SECTOR_SIZE);
        done += await this.writeFully(buf.subarray(done, done + whole), pos);
        continue;
      }
      const sectorStart = pos - within;
      const got = await this.readFully(bounce, sectorStart);
      bounce.fill(0, got); // past the end: nothing to preserve
      const n = Math.min(left, SECTOR_SIZE - within);
      bounce.set(buf.subarray(done, done + n), within);
      await this.writeFully(bounce, sectorStart);
      done += n;
    }
    return done;
  }
}

async function deviceSize(io: HandleIo, st: BigIntStats, kind: SourceKind): Promise<number> {
  const fromSysfs = kind === 'blockdev' ? await linuxSysfsSize(st.rdev) : null;
  if (fromSysfs !== null) return fromSysfs;
  const sector = new Uint8Array(SECTOR_SIZE);
  return probeDeviceSize((n) => io.readAligned(sector, n * SECTOR_SIZE));
}

class NodeFileSource implements NodeSource {
  private closed = false;
  private currentSize: number;

  constructor(
    private readonly handle: FileHandle,
    private readonly io: HandleIo,
    readonly identity: SourceIdentity,
    readonly kind: SourceKind,
    writable: boolean,
  ) {
    this.currentSize = identity.size;
    if (!writable) this.pwrite = undefined;
  }

  get name(): string {
    return this.identity.path;
  }

  get size(): number {
    return this.currentSize;
  }

  async pread(buf: Uint8Array, offset: number): Promise<number> {
    this.checkUsable('read', offset);
    return this.kind === 'chardev' ? this.io.readAligned(buf, offset) : this.io.readFully(buf, offset);
  }

  async preadEach(buf: Uint8Array, offsets: readonly number[], length: number): Promise<number> {
    for (const o of offsets) this.checkUsable('read', o);
    if (buf.length < offsets.length * length) throw new RangeError(`gather: ${offsets.length} slots of ${length} bytes do not fit in ${buf.length}`);
    await nextTurn(); // each slice starts on a fresh turn of the event loop
    const aligned = length % SECTOR_SIZE === 0 && offsets.every((o) => o % SECTOR_SIZE === 0);
    if (this.kind === 'chardev' && !aligned) {
      // Raw devices take whole sectors only: this slot through the bounce buffer, the rest next call.
      return offsets.length && (await this.io.readAligned(buf.subarray(0, length), offsets[0]!)) === length ? 1 : 0;
    }
    return this.io.readEach(buf, offsets, length);
  }

  async readThrough(buf: Uint8Array, offset: number, end: number, visit: (piece: Uint8Array, at: number) => void): Promise<number> {
    this.checkUsable('read', offset);
    await nextTurn(); // each slice starts on a fresh turn of the event loop
    if (this.kind === 'chardev') {
      // Raw devices take whole sectors only: one piece through the aligned path.
      const n = await this.io.readAligned(buf.subarray(0, Math.min(buf.length, end - offset)), offset);
      if (n > 0) visit(buf.subarray(0, n), offset);
      return offset + n;
    }
    return this.io.readThrough(buf, offset, end, visit);
  }

  pwrite?: (buf: Uint8Array, offset: number) => Promise<number> = async (buf, offset) => {
    this.checkUsable('write', offset);
    const n = this.kind === 'chardev' ? await this.io.writeAligned(buf, offset) : await this.io.writeFully(buf, offset);
    if (this.identity.mode === 'file') this.currentSize = Math.max(this.currentSize, offset + n);
    return n;
  };

  async sync(): Promise<void> {
    this.checkUsable('write', 0);
    try {
      await this.handle.sync();
    } catch (e) {
      throw ioError(this.identity.path, 'fsync', e);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.handle.close();
    } catch (e) {
      throw ioError(this.identity.path, 'close', e);
    }
  }

  private checkUsable(operation: string, offset: number): void {
    if (this.closed) throw new IoError('EBADF', describeIoFailure(this.identity.path, operation, 'EBADF', offset));
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new IoError('EINVAL', describeIoFailure(this.identity.path, operation, 'EINVAL', offset));
    }
  }
}

/**
 * Open a dump file or disk device. fstat decides the kind: regular file → 'file' (size
 * st_size), character device → 'chardev' (aligned bounce I/O), block device → 'blockdev'.
 * Opened O_RDONLY unless writable. Failures are IoErrors naming the path (with a how-to-get-
 * access hint for EACCES/EPERM).
 */
export async function openSource(path: string, opts: OpenSourceOptions = {}): Promise<NodeSource> {
  // An E01 or a split raw image is opened whole, from its first file, and only for reading.
  let probe: NodeSource;
  try {
    probe = await openFile(path, { ...opts, writable: false });
  } catch (e) {
    if (opts.writable) return openFile(path, opts); // its own error, in the words of an open for writing
    throw e;
  }
  let image;
  try {
    image = await openImageSet(path, probe, (p) => openFile(p, { ...opts, writable: false }));
  } catch (e) {
    await probe.close().catch(() => undefined);
    throw e;
  }
  if (image) {
    if (opts.writable) {
      await image.close();
      throw readOnlyImageError(path, image.image.format);
    }
    return image;
  }
  if (!opts.writable) return probe;
  await probe.close();
  return openFile(path, opts);
}

/** One file or device, as it is. */
async function openFile(path: string, opts: OpenSourceOptions = {}): Promise<NodeSource> {
  const writable = opts.writable ?? false;
  const flags = writable ? fsConstants.O_RDWR : fsConstants.O_RDONLY;
  let handle: FileHandle;
  try {
    handle = await fsp.open(path, flags);
  } catch (e) {
    throw ioError(path, writable ? 'open for writing' : 'open', e);
  }
  try {
    return await describeOpened(handle, path, opts, writable);
  } catch (e) {
    await handle.close().catch(() => undefined);
    throw e;
  }
}

async function describeOpened(handle: FileHandle, path: string, opts: OpenSourceOptions, writable: boolean): Promise<NodeSource> {
  let st: BigIntStats;
  try {
    st = await handle.stat({ bigint: true });
  } catch (e) {
    throw ioError(path, 'fstat', e);
  }
  const mode = kindOf(st, path);
  if (mode === null) {
    const errno: Errno = st.isDirectory() ? 'EISDIR' : 'EINVAL';
    throw new IoError(errno, `${path}: not a regular file or disk device: ${strerror(errno)}`);
  }
  const io = new HandleIo(handle, path);
  const size = mode === 'file' ? Number(st.size) : await deviceSize(io, st, mode);
  const realPath = await fsp.realpath(path).catch(() => path);
  const identity: SourceIdentity = {
    path,
    realPath,
    dev: Number(st.dev),
    ino: Number(st.ino),
    rdev: Number(st.rdev),
    mode,
    size,
  };
  return new NodeFileSource(handle, io, identity, opts.kind ?? mode, writable);
}
