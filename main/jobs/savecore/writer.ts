// Crash-safe output files. Everything is written under a temporary name in the same directory
// (".netbsd.N.core.partial-<pid>"), fsynced, then linked to its final name and the directory
// fsynced: a killed or failed export never leaves a final name on an incomplete file, and an
// existing archive is never overwritten. SHA-256 of the bytes written is computed on the fly.

import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { IoError, errnoOf, strerror } from '../../../core/errno.ts';
import { InlineSha256, type StreamHash } from './hash.ts';

/** Mode savecore's files end with: 0644/0600 under umask(066) (spec 7.6 step 1). */
export const ARCHIVE_MODE = 0o600;

export const PARTIAL_MARK = '.partial-';

export function partialPathFor(finalPath: string, pid = process.pid): string {
  return join(dirname(finalPath), `.${basename(finalPath)}${PARTIAL_MARK}${pid}`);
}

/** fsync a directory so a rename/link in it survives a crash (ignored where unsupported). */
export async function syncDirectory(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch (e) {
    if (!['EISDIR', 'EINVAL', 'EPERM', 'EBADF'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/** Give a finished temporary file its final name without ever replacing an existing file. */
async function publish(tempPath: string, finalPath: string): Promise<void> {
  try {
    await fsp.link(tempPath, finalPath); // fails with EEXIST instead of clobbering
    await fsp.unlink(tempPath);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new WriteError('EEXIST', existsMessage(finalPath));
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV') throw e;
    await fsp.rename(tempPath, finalPath); // file systems without hard links
  }
  await syncDirectory(dirname(finalPath));
}

export function existsMessage(path: string): string {
  return `${path}: ${strerror('EEXIST')}; refusing to overwrite an existing archive`;
}

/** The first of `paths` that exists (even as a dangling symlink), or null. */
export async function firstExisting(paths: string[]): Promise<string | null> {
  for (const p of paths) {
    if (await fsp.lstat(p).then(() => true, () => false)) return p;
  }
  return null;
}

/** Write a small file durably (bounds, manifest, report); replaces an existing file atomically. */
export async function writeFileDurably(path: string, content: string | Uint8Array, mode = ARCHIVE_MODE): Promise<void> {
  const temp = partialPathFor(path);
  // Our own temporary name (pid-tagged); one left by a killed run of ours is replaced, not appended to.
  await fsp.unlink(temp).catch(() => undefined);
  const fh = await fsp.open(temp, 'wx', mode);
  try {
    await fh.writeFile(content);
    await fh.chmod(mode);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await fsp.unlink(temp).catch(() => undefined);
    throw e;
  }
  await fh.close();
  try {
    await fsp.rename(temp, path);
  } catch (e) {
    await fsp.unlink(temp).catch(() => undefined);
    throw e;
  }
  await syncDirectory(dirname(path));
}

/** A file whose bytes on disk differ from what was written. */
export class ReadBackMismatch extends Error {
  override name = 'ReadBackMismatch';
}

/**
 * writeFileDurably, then read the published file back and compare: an archive file counts as
 * written only when the disk returns exactly its bytes. Returns the content's SHA-256.
 */
export async function writeFileVerified(path: string, content: string | Uint8Array, mode = ARCHIVE_MODE): Promise<string> {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  await writeFileDurably(path, bytes, mode);
  const back = await fsp.readFile(path);
  const want = createHash('sha256').update(bytes).digest('hex');
  const got = createHash('sha256').update(back).digest('hex');
  if (want !== got) throw new ReadBackMismatch(`read back ${back.length} bytes that differ from the ${bytes.length} written`);
  return want;
}

/** A write failure with savecore's "<path>: <strerror>" text. */
export class WriteError extends IoError {}

/** One output file being written in order; commit() publishes it, abort() removes all trace. */
export class DurableFile {
  private position = 0;
  private closed = false;

  private constructor(
    private readonly fh: FileHandle,
    readonly finalPath: string,
    readonly tempPath: string,
    private readonly hash: StreamHash,
  ) {}

  /** Create the temporary file; `hash` receives every byte written, in order. */
  static async create(finalPath: string, hash: StreamHash = new InlineSha256()): Promise<DurableFile> {
    const tempPath = partialPathFor(finalPath);
    let fh: FileHandle;
    try {
      fh = await fsp.open(tempPath, 'wx', ARCHIVE_MODE);
      await fh.chmod(ARCHIVE_MODE); // independent of the process umask
    } catch (e) {
      throw new WriteError(errnoOf(e), `${finalPath}: ${strerror(errnoOf(e))}`);
    }
    return new DurableFile(fh, finalPath, tempPath, hash);
  }

  /** Wrap an already open handle (tests write to /dev/full through it). */
  static fromHandle(fh: FileHandle, finalPath: string, tempPath: string): DurableFile {
    return new DurableFile(fh, finalPath, tempPath, new InlineSha256());
  }

  get bytesWritten(): number {
    return this.position;
  }

  /**
   * Write chunk after everything written before it. The position is taken synchronously, so
   * several writes may be in flight at once (write-behind) and still land in order.
   */
  async write(chunk: Uint8Array): Promise<void> {
    const at = this.position;
    this.position += chunk.length;
    const hashed = this.hash.update(chunk);
    let done = 0;
    while (done < chunk.length) {
      let n: number;
      try {
        ({ bytesWritten: n } = await this.fh.write(chunk, done, chunk.length - done, at + done));
      } catch (e) {
        throw new WriteError(errnoOf(e), `${this.finalPath}: ${strerror(errnoOf(e))}`);
      }
      if (n === 0) throw new WriteError('EIO', `${this.finalPath}: ${strerror('EIO')}`);
      done += n;
    }
    await hashed;
    // a shared chunk went to the hashing thread as it is: done only once hashed, so it can be reused
    if (chunk.buffer instanceof SharedArrayBuffer) await this.hash.settled?.();
  }

  /** fdatasync what has been written so far (the pipelined read-back re-reads only synced bytes). */
  async datasync(): Promise<void> {
    try {
      await this.fh.datasync();
    } catch (e) {
      throw new WriteError(errnoOf(e), `${this.finalPath}: ${strerror(errnoOf(e))}`);
    }
  }

  /** fsync and close; the file keeps its temporary name until publish(). */
  async finish(): Promise<string> {
    try {
      await this.fh.sync();
    } catch (e) {
      throw new WriteError(errnoOf(e), `${this.finalPath}: ${strerror(errnoOf(e))}`);
    } finally {
      await this.close();
    }
    return this.hash.digest();
  }

  async publish(): Promise<void> {
    await publish(this.tempPath, this.finalPath);
  }

  async abort(): Promise<void> {
    await this.hash.dispose();
    await this.close();
    await fsp.unlink(this.tempPath).catch(() => undefined);
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close().catch(() => undefined);
  }
}

/** Remove temporary files left by exports whose process no longer exists (kill -9, power loss). */
export async function removeStalePartials(directory: string): Promise<string[]> {
  const removed: string[] = [];
  let names: string[];
  try {
    names = await fsp.readdir(directory);
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = /^\..+\.partial-(\d+)$/.exec(name);
    if (!m || Number(m[1]) === process.pid || processAlive(Number(m[1]))) continue;
    await fsp.unlink(join(directory, name)).then(() => removed.push(name), () => undefined);
  }
  return removed;
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
