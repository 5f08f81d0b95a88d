// The app's handlers on a whole disk image (issue 15): surveyDisk lists its partitions and the
// dump; openDump with a partition reads it as NetBSD's dump device (offsets relative to it), the
// header names the partition; the export writes the same core as the CLI from the extracted
// partition and its invalidation lands at the partition's start + dumpmag's offset, nowhere else.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { JobEvent } from '../../contract/results.ts';
import { readPartitionMap } from '../../core/partitions/index.ts';
import { createHandlers } from '../../main/app/handlers.ts';
import { runSavecore } from '../../main/jobs/savecore/job.ts';
import { FileSource } from '../fixtures/file-source.ts';
import { haveTools, run } from '../fixtures/disk-tools.ts';
import { placeDump, sparseDisk } from '../fixtures/disk-image.ts';
import type { DumpImage } from '../fixtures/dump-image.ts';

const MiB = 1 << 20;

describe.skipIf(!haveTools('sgdisk'))('a GPT disk image through the app handlers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kvmdump-app-disk-'));
  const disk = join(dir, 'disk.img');
  const kernel = join(dir, 'netbsd');
  let img: DumpImage;
  let dumplo = 0;
  let swap = { start: 0, size: 0 };
  beforeAll(async () => {
    await sparseDisk(disk, 128 * MiB);
    run('sgdisk', ['-n', '1:2048:+32M', '-t', '1:49F48D5A-B10E-11DC-B99B-0019D1879648', '-c', '1:root',
      '-n', '2:0:0', '-t', '2:49F48D32-B10E-11DC-B99B-0019D1879648', '-c', '2:swap', disk]);
    const src = await FileSource.open(disk);
    const p = (await readPartitionMap(src)).partitions[1];
    await src.close();
    swap = { start: p.start, size: p.size };
    ({ img, dumplo } = await placeDump(disk, swap, { flavour: 'amd64', seed: 71 }));
    writeFileSync(kernel, img.kernel);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('surveyDisk, openDump with the partition, and an export that invalidates at the absolute offset', async () => {
    const handlers = createHandlers({ mode: 'serve', userDataDir: join(dir, 'userdata'), allowWrite: true });
    try {
      const s = await handlers.invoke('surveyDisk', { path: disk });
      if (!s.ok) throw new Error(s.error.message);
      expect(s.value.partitions.map((p) => [p.id, p.name, p.netbsdKind])).toEqual([['1', 'root', 'ffs'], ['2', 'swap', 'swap']]);
      expect(s.value.dumps).toMatchObject([{ partition: '2', dumplo, dumpOffset: dumplo * 512, absoluteOffset: swap.start + dumplo * 512, machine: 'amd64' }]);

      const opened = await handlers.invoke('openDump', { kernelPath: kernel, dumpPath: disk, partition: '2', dumpOffset: dumplo * 512 });
      if (!opened.ok) throw new Error(opened.error.message);
      expect(opened.value.header).toMatchObject({ mkheader: 512, dumpOffsetAsked: dumplo * 512, partition: { id: '2', name: 'swap', start: swap.start, size: swap.size } });
      const bad = await handlers.invoke('openDump', { kernelPath: kernel, dumpPath: disk, partition: '7', dumpOffset: 0 });
      expect(bad.ok).toBe(false);
      if (!bad.ok) expect(bad.error.message).toContain("no partition 7 (partitions: 1 'root', 2 'swap')");

      const before = readFileSync(disk);
      const part = join(dir, 'swap.img');
      writeFileSync(part, before.subarray(swap.start, swap.start + swap.size)); // the partition as it was
      const seen: JobEvent[] = [];
      handlers.onJobEvent((e) => seen.push(e));
      const outDir = mkdtempSync(join(dir, 'export-'));
      const r = await handlers.invoke('startSavecore', { sessionId: opened.value.sessionId, outDir, compress: false, invalidate: true });
      if (!r.ok) throw new Error(r.error.message);
      await expect.poll(() => seen.at(-1)?.state, { timeout: 60_000 }).toMatch(/done|failed/);
      expect(seen.at(-1)!.state, seen.at(-1)!.message ?? '').toBe('done');
      const m = JSON.parse(readFileSync(join(outDir, 'netbsd.0.manifest.json'), 'utf8'));
      expect(m.partition).toMatchObject({ id: '2', start: swap.start });
      expect(m.dump).toMatchObject({ dumpOffset: dumplo * 512, absoluteOffset: swap.start + dumplo * 512 });
      expect(m.invalidation).toMatchObject({ status: 'invalidated', absoluteOffset: swap.start + m.invalidation.offset });
      const after = readFileSync(disk);
      const at = swap.start + img.facts.symbols.dumpmag.fileOff;
      expect([...after.subarray(at, at + 4)]).toEqual([0, 0, 0, 0]);
      after.fill(0, m.invalidation.absoluteOffset, m.invalidation.absoluteOffset + m.invalidation.length);
      before.fill(0, m.invalidation.absoluteOffset, m.invalidation.absoluteOffset + m.invalidation.length);
      expect(after.equals(before)).toBe(true);

      // The same core as savecore of the extracted partition (taken from the image before the write).
      const cli = await runSavecore({ directory: mkdtempSync(join(dir, 'cli-')), device: part, kernel, dumpOffset: dumplo * 512, keep: true, now: Math.floor(Date.now() / 1000) });
      expect(cli.status).toBe('saved');
      expect(readFileSync(join(outDir, 'netbsd.0.core')).equals(readFileSync(cli.files!.core))).toBe(true);
    } finally {
      await handlers.shutdown();
    }
  });
});
