// The recently opened dumps, kept as JSON in the user data directory so the Open view can offer
// them again. A damaged or foreign file is treated as empty rather than failing the app.

import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { RecentEntry } from '../../contract/results.ts';
import { machineName } from '../../contract/values.ts';

const MAX_RECENT = 20;

const entrySchema = z.object({
  kernelPath: z.string().nullable(),
  dumpPath: z.string(),
  dumpOffset: z.number().int().min(0).nullable(),
  machine: machineName.nullable(),
  openedAt: z.string(),
});

export class RecentFiles {
  private readonly file: string;
  constructor(userDataDir: string) {
    this.file = join(userDataDir, 'recent.json');
  }

  async list(): Promise<RecentEntry[]> {
    try {
      const parsed = z.array(entrySchema).safeParse(JSON.parse(await readFile(this.file, 'utf8')));
      return parsed.success ? parsed.data.slice(0, MAX_RECENT) : [];
    } catch {
      return [];
    }
  }

  /** Put an entry first, dropping an older one for the same kernel + dump + offset. */
  async remember(entry: Omit<RecentEntry, 'openedAt'>): Promise<void> {
    const same = (e: RecentEntry) => e.dumpPath === entry.dumpPath && e.kernelPath === entry.kernelPath && e.dumpOffset === entry.dumpOffset;
    const list = (await this.list()).filter((e) => !same(e));
    list.unshift({ ...entry, openedAt: new Date().toISOString() });
    await mkdir(join(this.file, '..'), { recursive: true });
    // Write then rename: a crash mid-write must not leave half a JSON file behind.
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(list.slice(0, MAX_RECENT), null, 1));
    await rename(tmp, this.file);
  }
}
