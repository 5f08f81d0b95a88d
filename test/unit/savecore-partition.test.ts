// savecore from a whole disk image with --partition: the same netbsd.N.core as from the extracted
// partition (and as the format computed from the fixture facts), a manifest naming the device, the
// partition and the absolute offset, and the invalidating write at the right place on the disk —
// on a GPT image (sgdisk) and on MBR + NetBSD disklabel (sfdisk + our label writer).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPartitionMap } from '../../core/partitions/index.ts';
import { runSavecore } from '../../main/jobs/savecore/job.ts';
import { AuditLog } from '../../main/jobs/savecore/audit.ts';
import { BIN } from '../fixtures/cli.ts';
import { FileSource } from '../fixtures/file-source.ts';
import { haveTools, run } from '../fixtures/disk-tools.ts';
import { placeDump, sparseDisk, writeAt } from '../fixtures/disk-image.ts';
import { encodeDiskLabel } from '../fixtures/disklabel.ts';
import type { DumpImage } from '../fixtures/dump-image.ts';
import { expectedCore, NOW } from './savecore-fixture.ts';

const MiB = 1 << 20;
const root = mkdtempSync(join(tmpdir(), 'kvmdump-savecore-part-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Disk {
  disk: string;
  kernel: string;
  img: DumpImage;
  dumplo: number;
  part: { id: string; start: number; size: number };
}

function freshDir(name: string): string {
  const d = join(root, name);
  mkdirSync(d);
  return d;
}

function savecoreSuite(kind: string, make: () => Promise<Disk>) {
  describe(`savecore --partition on ${kind}`, () => {
    let d: Disk;
    let extracted: string;
    beforeAll(async () => {
      d = await make();
      extracted = join(root, `${kind}-partition.img`);
      writeFileSync(extracted, readFileSync(d.disk).subarray(d.part.start, d.part.start + d.part.size));
    });

    it('writes the same netbsd.0.core as savecore of the extracted partition; the manifest names device, partition and absolute offset', async () => {
      const fromDisk = await runSavecore({ directory: freshDir(`${kind}-a`), device: d.disk, partition: d.part.id, kernel: d.kernel, now: NOW, keep: true });
      const fromPart = await runSavecore({ directory: freshDir(`${kind}-b`), device: extracted, kernel: d.kernel, now: NOW, keep: true, dumpOffset: d.dumplo * 512 });
      expect([fromDisk.status, fromPart.status], JSON.stringify(fromDisk.messages)).toEqual(['saved', 'saved']);
      expect(fromDisk.dumpOffset).toBe(d.dumplo * 512); // found without --dump-offset, relative to the partition
      expect(fromDisk.absoluteOffset).toBe(d.part.start + d.dumplo * 512);
      const core = readFileSync(fromDisk.files!.core);
      expect(core.equals(readFileSync(fromPart.files!.core))).toBe(true);
      expect(core.equals(Buffer.from(expectedCore(d.img, readFileSync(extracted))))).toBe(true);
      expect(readFileSync(fromDisk.files!.kernel).equals(readFileSync(fromPart.files!.kernel))).toBe(true);

      const m = JSON.parse(readFileSync(fromDisk.files!.manifest!, 'utf8'));
      expect(m.device).toMatchObject({ path: d.disk, kind: 'file', size: readFileSync(d.disk).length });
      expect(m.partition).toMatchObject({ id: d.part.id, start: d.part.start, size: d.part.size });
      expect(m.dump).toMatchObject({ dumpOffset: d.dumplo * 512, dumplo: d.dumplo, absoluteOffset: d.part.start + d.dumplo * 512, dumpOffsetSource: 'scan' });
      expect(m.options.partition).toBe(d.part.id);
      const plain = JSON.parse(readFileSync(fromPart.files!.manifest!, 'utf8'));
      expect(plain.partition).toBeNull();
      expect(plain.dump.absoluteOffset).toBe(d.dumplo * 512);
      expect(m.dump.memorySha256).toBe(plain.dump.memorySha256);
    });

    it('invalidates at the absolute offset on the disk, after verification, and changes nothing else', async () => {
      const copy = join(root, `${kind}-inval.img`);
      copyFileSync(d.disk, copy);
      const before = readFileSync(copy);
      const r = await runSavecore({ directory: freshDir(`${kind}-c`), device: copy, partition: d.part.id, kernel: d.kernel, now: NOW, dumpOffset: d.dumplo * 512 });
      expect(r.status, JSON.stringify(r.messages)).toBe('saved');
      const inv = r.invalidation!;
      expect(inv.status).toBe('invalidated');
      const mag = d.img.facts.symbols.dumpmag.fileOff; // within the dump device (the partition)
      expect(inv.offset! <= mag && mag + 4 <= inv.offset! + inv.length!).toBe(true);
      expect(inv.absoluteOffset).toBe(d.part.start + inv.offset!);
      const after = readFileSync(copy);
      const at = d.part.start + mag;
      expect([...before.subarray(at, at + 4)]).toEqual([0x01, 0x01, 0xca, 0x8f]);
      expect([...after.subarray(at, at + 4)]).toEqual([0, 0, 0, 0]);
      after.fill(0, inv.absoluteOffset!, inv.absoluteOffset! + inv.length!);
      before.fill(0, inv.absoluteOffset!, inv.absoluteOffset! + inv.length!);
      expect(after.equals(before)).toBe(true);
      const m = JSON.parse(readFileSync(r.files!.manifest!, 'utf8'));
      expect(m.invalidation).toMatchObject({ status: 'invalidated', offset: inv.offset, absoluteOffset: inv.absoluteOffset });
      const audit = readFileSync(AuditLog.inDirectory(join(root, `${kind}-c`)).path, 'utf8');
      expect(audit).toContain(`"absoluteOffset":${d.part.start + d.dumplo * 512}`);
    });

    it('kvmdump savecore --partition (process): --json names the partition and the absolute offset', () => {
      const dir = freshDir(`${kind}-cli`);
      const r = spawnSync(process.execPath, [BIN, 'savecore', '-N', d.kernel, '--now', String(NOW), '--keep', '--json', '--partition', d.part.id, dir, d.disk], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout);
      expect(j).toMatchObject({ status: 'saved', dumpOffset: d.dumplo * 512, absoluteOffset: d.part.start + d.dumplo * 512, partition: { id: d.part.id, start: d.part.start } });
      const bad = spawnSync(process.execPath, [BIN, 'savecore', '-N', d.kernel, '--partition', '7', freshDir(`${kind}-bad`), d.disk], { encoding: 'utf8' });
      expect(bad.status).toBe(1);
      expect(bad.stderr).toMatch(/savecore: .*: no partition 7 \(partitions: /);
    });
  });
}

if (haveTools('sgdisk')) {
  savecoreSuite('gpt', async () => {
    const disk = join(root, 'gpt.img');
    await sparseDisk(disk, 256 * MiB);
    run('sgdisk', ['-n', '1:2048:+96M', '-t', '1:49F48D5A-B10E-11DC-B99B-0019D1879648', '-c', '1:root',
      '-n', '2:0:0', '-t', '2:49F48D32-B10E-11DC-B99B-0019D1879648', '-c', '2:swap', disk]);
    const src = await FileSource.open(disk);
    const p = (await readPartitionMap(src)).partitions[1];
    await src.close();
    const { img, dumplo } = await placeDump(disk, p, { flavour: 'amd64', seed: 41 });
    const kernel = join(root, 'netbsd-gpt');
    writeFileSync(kernel, img.kernel);
    return { disk, kernel, img, dumplo, part: { id: '2', start: p.start, size: p.size } };
  });
}

if (haveTools('sfdisk')) {
  savecoreSuite('mbr-disklabel', async () => {
    const disk = join(root, 'mbr.img');
    await sparseDisk(disk, 256 * MiB);
    const partStart = 2048;
    const partSectors = 200 * 2048;
    run('sfdisk', ['--no-reread', '--no-tell-kernel', disk], `label: dos\nstart=${partStart}, size=${partSectors}, type=a9\n`);
    const swap = { offset: partStart + 64 * 2048, size: partSectors - 64 * 2048, fstype: 1 };
    await writeAt(disk, (partStart + 1) * 512, encodeDiskLabel([{ offset: partStart, size: 64 * 2048, fstype: 7 }, swap, { offset: partStart, size: partSectors, fstype: 0 }], { secperunit: 256 * 2048 }));
    const part = { id: 'b', start: swap.offset * 512, size: swap.size * 512 };
    const { img, dumplo } = await placeDump(disk, part, { flavour: 'i386', seed: 42 });
    const kernel = join(root, 'netbsd-mbr');
    writeFileSync(kernel, img.kernel);
    return { disk, kernel, img, dumplo, part };
  });
}

savecoreSuite('bare-disklabel', async () => {
  const disk = join(root, 'bare.img');
  await sparseDisk(disk, 96 * MiB);
  const b = { offset: 64, size: 96 * 2048 - 64 - 16 * 2048, fstype: 1 };
  await writeAt(disk, 512, encodeDiskLabel([{ offset: 64 + b.size, size: 16 * 2048, fstype: 7 }, b, { offset: 0, size: 96 * 2048, fstype: 0 }]));
  const part = { id: 'b', start: b.offset * 512, size: b.size * 512 };
  const { img, dumplo } = await placeDump(disk, part, { flavour: 'aarch64', seed: 43 });
  const kernel = join(root, 'netbsd-bare');
  writeFileSync(kernel, img.kernel);
  return { disk, kernel, img, dumplo, part };
});

if (haveTools('sgdisk')) {
  describe('savecore of a whole disk without --partition', () => {
    it('finds the dump in the NetBSD swap partition through the map, makes it the dump device, and saves the same core', async () => {
      const disk = join(root, 'auto.img');
      await sparseDisk(disk, 128 * MiB);
      run('sgdisk', ['-n', '1:2048:+32M', '-t', '1:49F48D5A-B10E-11DC-B99B-0019D1879648', '-n', '2:0:0', '-t', '2:49F48D32-B10E-11DC-B99B-0019D1879648', '-c', '2:swap', disk]);
      const src = await FileSource.open(disk);
      const p = (await readPartitionMap(src)).partitions[1];
      await src.close();
      const { img, dumplo } = await placeDump(disk, p, { flavour: 'amd64', seed: 44 });
      const kernel = join(root, 'netbsd-auto');
      writeFileSync(kernel, img.kernel);
      const r = await runSavecore({ directory: freshDir('auto'), device: disk, kernel, now: NOW, keep: true });
      expect(r.status, JSON.stringify(r.messages)).toBe('saved');
      expect(r.messages).toContainEqual({ priority: 'notice', message: `the dump is in partition 2 'swap' (NetBSD swap) at dumplo ${dumplo}: it is the dump device` });
      expect([r.partition?.id, r.dumpOffset, r.absoluteOffset]).toEqual(['2', dumplo * 512, p.start + dumplo * 512]);
      const part = join(root, 'auto-part.img');
      writeFileSync(part, readFileSync(disk).subarray(p.start, p.start + p.size));
      expect(readFileSync(r.files!.core).equals(Buffer.from(expectedCore(img, readFileSync(part))))).toBe(true);
      const m = JSON.parse(readFileSync(r.files!.manifest!, 'utf8'));
      expect(m.partition.id).toBe('2');
      expect(m.options.partition).toBe('2');
    });
  });
}
