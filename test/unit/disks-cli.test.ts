// `kvmdump disks`, `--partition N` and `scan --partition N` through the real CLI, on whole-disk
// images partitioned by sgdisk (GPT) and sfdisk (MBR with a NetBSD disklabel in its 0xA9 partition),
// with the fixture dump where cpu_dumpconf puts it: the end of the swap partition.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPartitionMap } from '../../core/partitions/index.ts';
import { kvmdump } from '../fixtures/cli.ts';
import { FileSource } from '../fixtures/file-source.ts';
import { haveTools, run } from '../fixtures/disk-tools.ts';
import { placeDump, sparseDisk, writeAt } from '../fixtures/disk-image.ts';
import { encodeDiskLabel } from '../fixtures/disklabel.ts';
import { DEFAULT_TIME_SECOND } from '../fixtures/kernel-data.ts';
import type { DumpImage } from '../fixtures/dump-image.ts';

const MiB = 1 << 20;
const NETBSD_SWAP = '49F48D32-B10E-11DC-B99B-0019D1879648';
const NETBSD_FFS = '49F48D5A-B10E-11DC-B99B-0019D1879648';
const dir = mkdtempSync(join(tmpdir(), 'kvmdump-disks-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The partition's bytes copied out, as `dd if=disk skip=start count=size` would. */
function extract(disk: string, start: number, size: number, out: string): void {
  writeFileSync(out, readFileSync(disk).subarray(start, start + size));
}

if (haveTools('sgdisk')) {
  describe('GPT disk (sgdisk)', () => {
    const disk = join(dir, 'gpt.img');
    const kernel = join(dir, 'netbsd-gpt');
    let dumplo = 0;
    let swap = { start: 0, size: 0 };
    let img: DumpImage;
    beforeAll(async () => {
      await sparseDisk(disk, 256 * MiB);
      run('sgdisk', ['-n', '1:2048:+96M', '-t', `1:${NETBSD_FFS}`, '-c', '1:root', '-n', '2:0:0', '-t', `2:${NETBSD_SWAP}`, '-c', '2:swap', disk]);
      const src = await FileSource.open(disk);
      const p = (await readPartitionMap(src)).partitions[1];
      await src.close();
      swap = { start: p.start, size: p.size };
      ({ dumplo, img } = await placeDump(disk, swap, { flavour: 'amd64', seed: 5 }));
      writeFileSync(kernel, img.kernel);
    });

    it('disks --json: the map, and the dump in partition 2 with its partition-relative dumplo, crash time and state', () => {
      const r = kvmdump(['disks', disk, '--kernel', kernel, '--json']);
      expect([r.code, r.stderr]).toEqual([0, '']);
      expect(r.json.schemes).toEqual(['gpt']);
      expect(r.json.partitions.map((p: { id: string; name: string; typeName: string }) => [p.id, p.name, p.typeName])).toEqual([
        ['1', 'root', 'NetBSD FFSv1/FFSv2'], ['2', 'swap', 'NetBSD swap'],
      ]);
      expect(r.json.dumps).toHaveLength(1);
      expect(r.json.dumps[0]).toMatchObject({
        partition: '2', partitionName: 'swap', partitionType: 'NetBSD swap', partitionStart: swap.start, partitionSize: swap.size,
        dumplo, offset: swap.start + dumplo * 512, machine: 'amd64', memoryBytes: img.facts.dumpsizePages * 4096,
        crashTime: Number(DEFAULT_TIME_SECOND), state: 'not-saved',
      });
      expect(r.json.dumps[0].summary).toBe("partition 2 'swap': amd64 dump, 16 MiB, crashed 2026-11-18 11:06 UTC, not yet saved");
      expect(r.json.bytesRead).toBeLessThan(swap.size / 4);
    });

    it('disks (text): the partition table and how to open the dump', () => {
      const r = kvmdump(['disks', disk, '--kernel', kernel]);
      expect([r.code, r.stderr]).toEqual([0, '']);
      const lines = r.stdout.split('\n');
      expect(lines[0]).toBe(`${disk}: 256 MiB, GPT`);
      expect(lines[2]).toMatch(/^ {2}2 {3}swap +NetBSD swap +start 101711872 size /);
      expect(lines).toContain("dump: partition 2 'swap': amd64 dump, 16 MiB, crashed 2026-11-18 11:06 UTC, not yet saved");
      expect(lines).toContain(`  dumplo ${dumplo} (relative to the partition), absolute offset ${swap.start + dumplo * 512}: open with --dump ${disk} --partition 2 --dump-offset ${dumplo * 512}`);
    });

    it('disks --quick skips the symbol look-up; without a kernel and without ksyms the state is unknown, with the reason', () => {
      const q = kvmdump(['disks', disk, '--quick', '--json']);
      expect(q.json.dumps[0]).toMatchObject({ dumplo, crashTime: null, state: 'unknown', stateNote: 'not inspected (--quick)' });
      const n = kvmdump(['disks', disk, '--json']);
      expect(n.code).toBe(0);
      expect(n.json.dumps[0]).toMatchObject({ dumplo, state: 'unknown' });
      expect(n.json.dumps[0].stateNote).toMatch(/^no kernel given, and /);
    });

    it('--max-bytes bounds the search per partition, and says what was not searched', () => {
      const r = kvmdump(['disks', disk, '--quick', '--max-bytes', String(MiB), '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.json.dumps).toEqual([]);
      expect(r.json.notes).toEqual([`partition 2: only the last 1 MiB of ${Math.round(swap.size / MiB)} MiB searched; a larger dump needs a full scan`]);
      expect(r.json.bytesRead).toBeLessThan(2 * MiB);
    });

    it('scan --partition 2 reports offsets relative to the partition, and the absolute one', () => {
      const r = kvmdump(['scan', '--dump', disk, '--partition', '2', '--json']);
      expect(r.code).toBe(0);
      expect(r.json.partition).toEqual({ id: '2', name: 'swap', start: swap.start, size: swap.size });
      expect(r.json.candidates.map((c: { offset: number }) => c.offset)).toEqual([dumplo * 512]);
      const t = kvmdump(['scan', '--dump', disk, '--partition', '2']);
      expect(t.stdout).toMatch(new RegExp(`^partition 2 \\(absolute offset ${swap.start + dumplo * 512}\\): offset ${dumplo * 512} \\(dumplo ${dumplo}\\): amd64`));
    });

    it('scan of the whole disk says which partition each header is in, and its dumplo there', () => {
      const r = kvmdump(['scan', '--dump', disk, '--json']);
      expect(r.code).toBe(0);
      expect(r.json.candidates.map((c: { offset: number; inPartition: unknown }) => [c.offset, c.inPartition])).toEqual([
        [swap.start + dumplo * 512, { partition: '2', name: 'swap', type: 'NetBSD swap', dumplo }],
      ]);
      const t = kvmdump(['scan', '--dump', disk]);
      expect(t.stdout.trim()).toMatch(new RegExp(`— in partition 2 'swap' \\(NetBSD swap\\) at dumplo ${dumplo}: --partition 2 --dump-offset ${dumplo * 512}$`));
    });

    it('--partition makes --dump-offset partition-relative: the same answers as from the extracted partition', () => {
      const part = join(dir, 'gpt-swap.img');
      extract(disk, swap.start, swap.size, part);
      const off = String(dumplo * 512);
      for (const cmd of [['mkheader'], ['read', '--symbol', 'version', '--length', '64'], ['kvatop', '--va', `0x${img.facts.symbols.dumpmag.va.toString(16)}`]]) {
        const whole = kvmdump([...cmd, '--kernel', kernel, '--dump', disk, '--partition', '2', '--dump-offset', off, '--json']);
        const alone = kvmdump([...cmd, '--kernel', kernel, '--dump', part, '--dump-offset', off, '--json']);
        expect(whole.code, whole.stderr).toBe(0);
        expect(whole.json).toEqual(alone.json);
      }
      const report = kvmdump(['report', '--kernel', kernel, '--dump', disk, '--partition', 'swap', '--dump-offset', off, '--json']);
      expect(report.code, report.stderr).toBe(0); // a GPT partition is also named by its label
      expect(report.json.dump).toMatchObject({ format: 'dump-device', headerOffset: dumplo * 512 });
    });

    it('an unknown partition is a clear error that lists the ones there are', () => {
      const r = kvmdump(['mkheader', '--kernel', kernel, '--dump', disk, '--partition', '9', '--dump-offset', '0', '--json']);
      expect(r.code).toBe(1);
      expect(JSON.stringify(r.json)).toContain(`no partition 9 (partitions: 1 'root', 2 'swap')`);
      const s = kvmdump(['scan', '--dump', disk, '--partition', 'z']);
      expect([s.code, s.stdout.trim()]).toEqual([1, `kvmdump: ${disk}: no partition z (partitions: 1 'root', 2 'swap')`]);
    });

    it('inval --partition clears dumpmag at its absolute offset on the disk; disks then says it was saved', () => {
      const copy = join(dir, 'gpt-inval.img');
      copyFileSync(disk, copy);
      const before = readFileSync(copy);
      const r = kvmdump(['inval', '--yes', '--kernel', kernel, '--dump', copy, '--partition', '2', '--dump-offset', String(dumplo * 512), '--json']);
      expect(r.code, r.stderr).toBe(0);
      // kvm_dump_inval zeroes the (fdalign-aligned) block holding dumpmag, at its offset within the dump device:
      // on the disk that is the partition's start plus that offset, and nothing else changes.
      const mag = img.facts.symbols.dumpmag.fileOff;
      expect(r.json.offset).toBeLessThanOrEqual(mag);
      expect(r.json.offset + r.json.length).toBeGreaterThanOrEqual(mag + 4);
      const at = swap.start + r.json.offset;
      const after = readFileSync(copy);
      expect(after.subarray(at, at + r.json.length).every((b) => b === 0)).toBe(true);
      expect([...before.subarray(swap.start + mag, swap.start + mag + 4)]).toEqual([0x01, 0x01, 0xca, 0x8f]);
      after.fill(0, at, at + r.json.length);
      before.fill(0, at, at + r.json.length);
      expect(after.equals(before)).toBe(true);
      const d = kvmdump(['disks', copy, '--kernel', kernel, '--json']);
      expect(d.json.dumps[0]).toMatchObject({ state: 'invalidated' });
      expect(d.json.dumps[0].summary).toMatch(/already saved \(invalidated\)$/);
    });
  });
}

if (haveTools('sfdisk')) {
  describe('MBR + NetBSD disklabel (sfdisk and our label writer)', () => {
    const disk = join(dir, 'mbr.img');
    const kernel = join(dir, 'netbsd-mbr');
    const partStart = 2048;
    const partSectors = 200 * 2048;
    const swap = { offset: partStart + 64 * 2048, size: partSectors - 64 * 2048, fstype: 1 };
    let dumplo = 0;
    beforeAll(async () => {
      await sparseDisk(disk, 256 * MiB);
      run('sfdisk', ['--no-reread', '--no-tell-kernel', disk], `label: dos\nstart=${partStart}, size=${partSectors}, type=a9, bootable\n`);
      const label = encodeDiskLabel([{ offset: partStart, size: 64 * 2048, fstype: 7 }, swap, { offset: partStart, size: partSectors, fstype: 0 }, { offset: 0, size: 256 * 2048, fstype: 0 }], { secperunit: 256 * 2048 });
      await writeAt(disk, (partStart + 1) * 512, label);
      let img: DumpImage;
      ({ dumplo, img } = await placeDump(disk, { start: swap.offset * 512, size: swap.size * 512 }, { flavour: 'i386', seed: 6 }));
      writeFileSync(kernel, img.kernel);
    });

    it('disks finds the dump in disklabel partition b, dumplo relative to b', () => {
      const r = kvmdump(['disks', disk, '--kernel', kernel, '--json']);
      expect([r.code, r.stderr]).toEqual([0, '']);
      expect(r.json.schemes).toEqual(['mbr', 'disklabel']);
      expect(r.json.dumps.map((d: Record<string, unknown>) => [d.partition, d.partitionType, d.dumplo, d.offset, d.machine, d.state])).toEqual([
        ['b', 'swap', dumplo, (swap.offset + dumplo) * 512, 'i386', 'not-saved'],
      ]);
      expect(r.json.dumps[0].summary).toMatch(/^partition b: i386 dump, 16 MiB, crashed 2026-11-18 11:06 UTC, not yet saved$/);
    });

    it('--partition b and scan --partition b', () => {
      const m = kvmdump(['mkheader', '--kernel', kernel, '--dump', disk, '--partition', 'b', '--dump-offset', String(dumplo * 512), '--json']);
      expect(m.code, m.stderr).toBe(0);
      const s = kvmdump(['scan', '--dump', disk, '--partition', 'b', '--json']);
      expect(s.json.candidates.map((c: { offset: number; machine: string }) => [c.offset, c.machine])).toEqual([[dumplo * 512, 'i386']]);
    });
  });
}
