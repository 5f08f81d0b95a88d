// A per-user cache of gzip checkpoint indexes, so each CLI command on a netbsd.N.core.gz does not
// decompress the whole core again. Keyed and checked by the SHA-256 of the compressed file (hashing
// is ~10x faster than inflating), stored outside the evidence directory, and strictly best effort:
// a missing, damaged, stale or unwritable cache only means the index is built again.

import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { DumpSource } from '../../core/source.ts';
import { buildGzipIndex, type GzipIndex, type GzipIndexOptions } from '../../core/sources/gzip-index.ts';
import { decodeGzipIndex, encodeGzipIndex } from '../../core/sources/gzip-index-file.ts';

const HASH_CHUNK = 4 << 20;

/** KVMDUMP_CACHE_DIR, else the platform's per-user cache directory; null disables the cache. */
export function gzipIndexCacheDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string | null {
  if (env.KVMDUMP_NO_CACHE) return null;
  if (env.KVMDUMP_CACHE_DIR) return join(env.KVMDUMP_CACHE_DIR, 'gzip-index');
  const base = platform === 'win32' ? env.LOCALAPPDATA
    : platform === 'darwin' ? join(homedir(), 'Library', 'Caches')
    : env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return base ? join(base, 'kvmdump', 'gzip-index') : null;
}

/** SHA-256 of every compressed byte: the index is reused only for exactly these bytes. */
async function fingerprint(src: DumpSource, signal?: GzipIndexOptions['signal']): Promise<Uint8Array> {
  const hash = createHash('sha256');
  const buf = new Uint8Array(HASH_CHUNK);
  for (let off = 0; off < src.size; ) {
    if (signal?.aborted) break;
    const n = await src.pread(buf, off);
    if (n <= 0) break;
    hash.update(buf.subarray(0, n));
    off += n;
  }
  return new Uint8Array(hash.digest());
}

export async function loadOrBuildGzipIndex(src: DumpSource, opts: GzipIndexOptions = {}, dir = gzipIndexCacheDir()): Promise<GzipIndex> {
  if (!dir) return buildGzipIndex(src, opts);
  const fp = await fingerprint(src, opts.signal);
  const file = join(dir, `${Buffer.from(fp).toString('hex')}.idx`);
  const cached = await readFile(file).then((b) => decodeGzipIndex(new Uint8Array(b), fp, src.size), () => null);
  if (cached) return cached;
  const index = await buildGzipIndex(src, opts);
  await store(file, encodeGzipIndex(index, fp));
  return index;
}

/** Write to a temporary name and rename, so a reader never sees half an index. */
async function store(file: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await mkdir(join(file, '..'), { recursive: true });
    await writeFile(tmp, bytes);
    await rename(tmp, file);
  } catch {
    // best effort: an unwritable cache costs time, never correctness
  }
}
