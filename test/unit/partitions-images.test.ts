// Partition maps built by the real tools (sgdisk for GPT, sfdisk for MBR) and NetBSD disklabels
// written from the documented format; in each, the fixture dump placed where cpu_dumpconf puts it
// is found in the right partition with the right partition-relative dumplo, reading little.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { locateDumps, readPartitionMap, type PartitionMap } from '../../core/partitions/index.ts';
import { FileSource } from '../fixtures/file-source.ts';
import { haveTools, run } from '../fixtures/disk-tools.ts';
import { placeDump, sparseDisk, writeAt } from '../fixtures/disk-image.ts';
import { encodeDiskLabel } from '../fixtures/disklabel.ts';

const MiB = 1 << 20;
const NETBSD_SWAP = '49F48D32-B10E-11DC-B99B-0019D1879648';
const NETBSD_FFS = '49F48D5A-B10E-11DC-B99B-0019D1879648';
const dir = mkdtempSync(join(tmpdir(), 'kvmdump-parts-'));

async function mapOf(path: string): Promise<{ map: PartitionMap; src: FileSource }> {
  const src = await FileSource.open(path);
  return { map: await readPartitionMap(src), src };
}

if (haveTools('sgdisk')) {
  describe('GPT made by sgdisk', () => {
    const disk = join(dir, 'gpt.img');
    let dumplo = 0;
    beforeAll(async () => {
      await sparseDisk(disk, 256 * MiB);
      run('sgdisk', ['-n', '1:2048:+96M', '-t', `1:${NETBSD_FFS}`, '-c', '1:root', '-n', '2:0:0', '-t', `2:${NETBSD_SWAP}`, '-c', '2:swap', disk]);
      const { map, src } = await mapOf(disk);
      await src.close();
      const swap = map.partitions.find((p) => p.id === '2')!;
      ({ dumplo } = await placeDump(disk, swap, { flavour: 'amd64', seed: 5 }));
    });

    it('lists both partitions with their NetBSD types and names, and no warnings', async () => {
      const { map, src } = await mapOf(disk);
      await src.close();
      expect(map.schemes).toEqual(['gpt']);
      expect(map.warnings).toEqual([]);
      expect(map.partitions.map((p) => [p.id, p.name, p.kind, p.typeName, p.start])).toEqual([
        ['1', 'root', 'ffs', 'NetBSD FFSv1/FFSv2', 2048 * 512],
        ['2', 'swap', 'swap', 'NetBSD swap', 2048 * 512 + 96 * MiB],
      ]);
    });

    it('finds the dump at the end of the swap partition, dumplo relative to it, reading a fraction of the disk', async () => {
      const { map, src } = await mapOf(disk);
      const r = await locateDumps(src, map);
      await src.close();
      const swap = map.partitions[1];
      expect(r.dumps).toHaveLength(1);
      expect(r.dumps[0]).toMatchObject({ dumplo, offset: swap.start + dumplo * 512, machine: 'amd64', headerSize: 512, placement: 'end' });
      expect(r.dumps[0].partition?.id).toBe('2');
      expect(r.bytesRead).toBeLessThan(swap.size / 4);
    });

    it('uses the backup GPT when the primary header is damaged, and says so', async () => {
      const damaged = join(dir, 'gpt-damaged.img');
      await sparseDisk(damaged, 256 * MiB);
      const whole = readFileSync(disk);
      await writeAt(damaged, 0, whole);
      await writeAt(damaged, 512 + 40, Uint8Array.of(0xff)); // first usable LBA: the header CRC no longer matches
      const { map, src } = await mapOf(damaged);
      const r = await locateDumps(src, map);
      await src.close();
      expect(map.warnings[0]).toMatch(/^GPT: primary damaged: header CRC32 at LBA 1 is 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}$/);
      expect(map.warnings[1]).toBe(`GPT: using the backup header at LBA ${256 * 2048 - 1}`);
      expect(map.partitions.map((p) => p.name)).toEqual(['root', 'swap']);
      expect(r.dumps.map((d) => [d.partition?.id, d.dumplo])).toEqual([['2', dumplo]]);
    });

    it('says so when the entry array CRC is wrong in both copies', async () => {
      const bad = join(dir, 'gpt-bad.img');
      await sparseDisk(bad, 256 * MiB);
      await writeAt(bad, 0, readFileSync(disk).subarray(0, 34 * 512));
      await writeAt(bad, 2 * 512 + 32, Uint8Array.of(1)); // entry 1's first LBA
      const { map, src } = await mapOf(bad);
      await src.close();
      expect(map.schemes).toEqual(['mbr']); // what is left: the protective MBR, shown as it is
      expect(map.partitions.map((p) => p.typeName)).toEqual(['GPT protective']);
      expect(map.warnings).toEqual([
        expect.stringMatching(/^GPT: primary damaged: entry array CRC32 is/),
        expect.stringMatching(/^GPT: backup at LBA \d+ unusable too: no "EFI PART" signature/),
        'GPT: the MBR says the disk is GPT, but neither GPT header is usable',
      ]);
    });
  });
}

if (haveTools('sfdisk')) {
  describe('MBR made by sfdisk with a NetBSD disklabel in its 0xA9 partition', () => {
    const disk = join(dir, 'mbr.img');
    const partStart = 2048;
    const partSectors = 200 * 2048;
    const ffs = { offset: partStart, size: 64 * 2048, fstype: 7 };
    const swap = { offset: partStart + 64 * 2048, size: partSectors - 64 * 2048, fstype: 1 };
    let dumplo = 0;
    beforeAll(async () => {
      await sparseDisk(disk, 256 * MiB);
      run('sfdisk', ['--no-reread', '--no-tell-kernel', disk], `label: dos\nstart=${partStart}, size=${partSectors}, type=a9, bootable\nstart=${partStart + partSectors}, type=83\n`);
      const label = encodeDiskLabel([ffs, swap, { offset: partStart, size: partSectors, fstype: 0 }, { offset: 0, size: 256 * 2048, fstype: 0 }], { secperunit: 256 * 2048 });
      await writeAt(disk, (partStart + 1) * 512, label); // LABELSECTOR 1 of the NetBSD partition (amd64/i386)
      ({ dumplo } = await placeDump(disk, { start: swap.offset * 512, size: swap.size * 512 }, { flavour: 'i386', seed: 6 }));
    });

    it('lists the MBR entries, then the disklabel partitions inside the NetBSD one', async () => {
      const { map, src } = await mapOf(disk);
      await src.close();
      expect(map.schemes).toEqual(['mbr', 'disklabel']);
      expect(map.warnings).toEqual([]);
      expect(map.partitions.map((p) => [p.id, p.scheme, p.kind, p.typeName, p.start / 512, p.raw ?? false, p.parent ?? null])).toEqual([
        ['1', 'mbr', 'netbsd-mbr', 'NetBSD', partStart, false, null],
        ['2', 'mbr', 'other', 'Linux', partStart + partSectors, false, null],
        ['a', 'disklabel', 'ffs', '4.2BSD', ffs.offset, false, '1'],
        ['b', 'disklabel', 'swap', 'swap', swap.offset, false, '1'],
        ['c', 'disklabel', 'other', 'unused', partStart, true, '1'],
        ['d', 'disklabel', 'other', 'unused', 0, true, '1'],
      ]);
    });

    it("finds the dump in partition b with b's own dumplo", async () => {
      const { map, src } = await mapOf(disk);
      const r = await locateDumps(src, map);
      await src.close();
      expect(r.dumps.map((d) => [d.partition?.id, d.dumplo, d.offset, d.machine, d.placement])).toEqual([['b', dumplo, (swap.offset + dumplo) * 512, 'i386', 'end']]);
    });
  });

  describe('MBR extended partitions made by sfdisk', () => {
    it('follows the EBR chain to each logical partition', async () => {
      const disk = join(dir, 'ext.img');
      await sparseDisk(disk, 64 * MiB);
      run('sfdisk', ['--no-reread', '--no-tell-kernel', disk], 'label: dos\nstart=2048, size=10240, type=83\nstart=12288, type=5\nstart=14336, size=10240, type=82\nstart=26624, size=10240, type=83\nstart=38912, type=a9\n');
      const { map, src } = await mapOf(disk);
      await src.close();
      expect(map.partitions.map((p) => [p.id, p.type, p.start / 512])).toEqual([
        ['1', '0x83', 2048], ['2', '0x05', 12288], ['5', '0x82', 14336], ['6', '0x83', 26624], ['7', '0xa9', 38912],
      ]);
      expect(map.warnings).toEqual(['MBR partition 7 is NetBSD (0xA9) but holds no valid disklabel']);
    });
  });
}

describe('a bare NetBSD disklabel (no MBR)', () => {
  it('is found at LABELSECTOR 1 (amd64) and in big-endian at sector 0 offset 64, and the dump in its swap partition', async () => {
    for (const [littleEndian, sector, offset] of [[true, 1, 0], [false, 0, 64]] as const) {
      const disk = join(dir, `bare-${littleEndian}.img`);
      await sparseDisk(disk, 128 * MiB);
      const a = { offset: 64, size: 32 * 2048, fstype: 7 };
      const b = { offset: 64 + 32 * 2048, size: 128 * 2048 - 64 - 32 * 2048, fstype: 1 };
      await writeAt(disk, sector * 512 + offset, encodeDiskLabel([a, b, { offset: 0, size: 128 * 2048, fstype: 0 }], { littleEndian }));
      const { dumplo } = await placeDump(disk, { start: b.offset * 512, size: b.size * 512 }, { flavour: 'aarch64', seed: 7 });
      const { map, src } = await mapOf(disk);
      const r = await locateDumps(src, map);
      await src.close();
      expect(map.schemes).toEqual(['disklabel']);
      expect(map.partitions.map((p) => [p.id, p.kind, p.raw ?? false])).toEqual([['a', 'ffs', false], ['b', 'swap', false], ['c', 'other', true]]);
      expect(r.dumps.map((d) => [d.partition?.id, d.dumplo, d.machine])).toEqual([['b', dumplo, 'aarch64']]);
    }
  });

  it('a dump that did not fit sits at dumplo = ctod(1) = 8 and is found there', async () => {
    const disk = join(dir, 'small-swap.img');
    await sparseDisk(disk, 64 * MiB);
    const b = { offset: 64, size: 64 * 2048 - 64, fstype: 1 };
    await writeAt(disk, 512, encodeDiskLabel([{ offset: 0, size: 0, fstype: 0 }, b]));
    await placeDump(disk, { start: b.offset * 512, size: b.size * 512 }, { flavour: 'amd64', seed: 8, dumplo: 8, memMiB: 16 });
    const { map, src } = await mapOf(disk);
    const r = await locateDumps(src, map);
    await src.close();
    expect(r.dumps.map((d) => [d.partition?.id, d.dumplo, d.placement])).toEqual([['b', 8, 'ctod1']]);
  });
});
