// Bookmarks per dump, kept in the user's application data (never next to the evidence), keyed by
// the dump's identity: a hash of its header bytes and size, so a dump moved or copied keeps its
// bookmarks and two dumps never share them. Written crash-safe (temporary file, fsync, rename of
// our own file) and read tolerantly: a damaged file is an empty list, not a failed app.

import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { Bookmark } from '../../contract/results.ts';
import { memorySpace } from '../../contract/values.ts';

const bookmarkSchema = z.object({
  space: memorySpace, address: z.string().regex(/^0x[0-9a-f]+$/), name: z.string().max(200), note: z.string().max(4000), createdAt: z.string().max(40),
});
const fileSchema = z.object({ schema: z.literal('kvmdump-bookmarks/1'), dumpKey: z.string(), dumpPath: z.string(), bookmarks: z.array(bookmarkSchema) });

/** The identity of a dump: its header bytes (first 4 KiB from the header offset) and its size. */
export function dumpKey(headerBytes: Uint8Array, size: number, headerOffset: number): string {
  return createHash('sha256').update(headerBytes).update(`|${size}|${headerOffset}`).digest('hex').slice(0, 32);
}

export class BookmarkStore {
  private readonly dir: string;
  constructor(userDataDir: string) {
    this.dir = join(userDataDir, 'bookmarks');
  }

  private file(key: string): string {
    if (!/^[0-9a-f]{32}$/.test(key)) throw new Error(`bad dump key ${key}`);
    return join(this.dir, `${key}.json`);
  }

  async list(key: string): Promise<Bookmark[]> {
    try {
      const parsed = fileSchema.safeParse(JSON.parse(await readFile(this.file(key), 'utf8')));
      return parsed.success ? parsed.data.bookmarks : [];
    } catch {
      return [];
    }
  }

  async save(key: string, dumpPath: string, bookmarks: Bookmark[]): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const target = this.file(key);
    const temp = `${target}.${randomBytes(4).toString('hex')}.tmp`;
    const fh = await open(temp, 'wx', 0o600);
    try {
      await fh.writeFile(JSON.stringify({ schema: 'kvmdump-bookmarks/1', dumpKey: key, dumpPath, bookmarks }, null, 2));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(temp, target); // our own file in our own directory: replacing it is the point
  }
}
