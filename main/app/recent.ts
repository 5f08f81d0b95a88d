// The recently opened dumps, kept as JSON in the user data directory so the Open view can offer
// them again. A damaged or foreign file is treated as empty rather than failing the app.

import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
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

  /** The list with each entry's missing files marked (a dump moved or deleted since). */
  async listChecked(): Promise<RecentEntry[]> {
    const exists = (p: string) => stat(p).then(() => true, () => false);
    return Promise.all((await this.list()).map(async (e) => {
      const gone: ('dump' | 'kernel')[] = [];
      if (!(await exists(e.dumpPath))) gone.push('dump');
      if (e.kernelPath && !(await exists(e.kernelPath))) gone.push('kernel');
      return gone.length ? { ...e, gone } : e;
    }));
  }

  /** Put an entry first, dropping an older one for the same kernel + dump + offset. */
  async remember(entry: Omit<RecentEntry, 'openedAt'>): Promise<void> {
    const list = (await this.list()).filter((e) => !sameEntry(e, entry));
    list.unshift({ ...entry, openedAt: new Date().toISOString() });
    await this.save(list);
  }

  /** Remove the entry for this kernel + dump + offset. */
  async forget(entry: Pick<RecentEntry, 'dumpPath' | 'kernelPath' | 'dumpOffset'>): Promise<void> {
    await this.save((await this.list()).filter((e) => !sameEntry(e, entry)));
  }

  private async save(list: RecentEntry[]): Promise<void> {
    await mkdir(join(this.file, '..'), { recursive: true });
    // Write then rename: a crash mid-write must not leave half a JSON file behind.
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(list.slice(0, MAX_RECENT), null, 1));
    await rename(tmp, this.file);
  }
}

function sameEntry(a: Pick<RecentEntry, 'dumpPath' | 'kernelPath' | 'dumpOffset'>, b: Pick<RecentEntry, 'dumpPath' | 'kernelPath' | 'dumpOffset'>): boolean {
  return a.dumpPath === b.dumpPath && a.kernelPath === b.kernelPath && a.dumpOffset === b.dumpOffset;
}
