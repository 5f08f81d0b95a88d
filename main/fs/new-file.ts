// The one way the workbench creates an output file a user named: exclusively (O_CREAT|O_EXCL, so an
// existing file, a device node or a symlink — even a dangling one — is never opened for writing),
// and never onto the evidence being examined. Evidence files and user files are never truncated.

import { lstat, open, realpath, stat, type FileHandle } from 'node:fs/promises';

/** Why an output path was refused, in words a user can act on. */
export class RefusedOutput extends Error {
  constructor(readonly path: string, readonly reason: string) {
    super(`refusing to write ${path}: ${reason}`);
    this.name = 'RefusedOutput';
  }
}

/** Same file: same device and inode (paths can differ through links, '..' or bind mounts). */
async function sameFile(a: string, b: string): Promise<boolean> {
  try {
    const [sa, sb] = await Promise.all([stat(a), stat(b)]);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    const [ra, rb] = await Promise.all([realpath(a).catch(() => a), realpath(b).catch(() => b)]);
    return ra === rb;
  }
}

/** What an existing path is, for the refusal message. */
async function describeExisting(path: string): Promise<string | null> {
  try {
    const st = await lstat(path);
    if (st.isSymbolicLink()) return 'it is a symbolic link (outputs never follow links onto existing files)';
    if (st.isBlockDevice() || st.isCharacterDevice()) return 'it is a device, and outputs are only ever new files';
    if (st.isDirectory()) return 'it is a directory';
    return 'it already exists, and outputs never replace a file (choose a new name)';
  } catch {
    return null;
  }
}

/** Throws RefusedOutput when createNewFile(path, protect) would refuse, without creating anything. */
export async function checkNewPath(path: string, protect: readonly (string | null | undefined)[] = []): Promise<void> {
  for (const p of protect) {
    if (p && (await sameFile(path, p))) throw new RefusedOutput(path, 'it is the dump or kernel being examined');
  }
  const existing = await describeExisting(path);
  if (existing) throw new RefusedOutput(path, existing);
}

/**
 * Create `path` as a new file for writing. `protect` lists the dump and kernel being examined: the
 * output may not be any of them (checked by inode as well as by path). Throws RefusedOutput.
 */
export async function createNewFile(path: string, protect: readonly (string | null | undefined)[] = [], mode = 0o644): Promise<FileHandle> {
  for (const p of protect) {
    if (p && (await sameFile(path, p))) throw new RefusedOutput(path, 'it is the dump or kernel being examined');
  }
  const existing = await describeExisting(path);
  if (existing) throw new RefusedOutput(path, existing);
  try {
    return await open(path, 'wx', mode);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new RefusedOutput(path, (await describeExisting(path)) ?? 'it already exists');
    throw e;
  }
}
