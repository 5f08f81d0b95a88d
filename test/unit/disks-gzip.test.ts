// A gzip-compressed whole-disk image (disk.img.gz) is read as the disk it holds, with random access
// through the gzip checkpoint index: `disks`, `scan` (whole and --partition) and --partition on dump
// commands and savecore see the same partitions, dumplo and bytes as on the raw disk, and say it is
// a gzip image; nothing is ever written to it (inval and savecore's invalidation refuse).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPartitionMap } from '../../core/partitions/index.ts';
import { runSavecore } from '../../main/jobs/savecore/job.ts';
import { isGzipImage, openDiskSource } from '../../main/session/disk-source.ts';
import { kvmdump } from '../fixtures/cli.ts';
import { placeDump, sparseDisk, writeAt } from '../fixtures/disk-image.ts';
import { haveTools, run } from '../fixtures/disk-tools.ts';
import type { DumpImage } from '../fixtures/dump-image.ts';
import { FileSource } from '../fixtures/file-source.ts';
import { NOW } from './savecore-fixture.ts';

const MiB = 1 << 20;
const NETBSD_SWAP = '49F48D32-B10E-11DC-B99B-0019D1879648';
const NETBSD_FFS = '49F48D5A-B10E-11DC-B99B-0019D1879648';
const dir = mkdtempSync(join(tmpdir(), 'kvmdump-disks-gzip-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** gzip(1) when it is there (what a user runs), else node:zlib: the same format. */
function gzipFile(from: string, to: string): void {
  const r = spawnSync('gzip', ['-c', '-6', from], { maxBuffer: 1 << 30 });
  writeFileSync(to, r.status === 0 ? r.stdout : gzipSync(readFileSync(from)));
}

if (haveTools('sgdisk')) {
  describe('a gzipped GPT disk image', () => {
    const raw = join(dir, 'disk.img');
    const gz = join(dir, 'disk.img.gz');
    const kernel = join(dir, 'netbsd');
    let img: DumpImage;
    let dumplo = 0;
    let swap = { start: 0, size: 0 };
    beforeAll(async () => {
      await sparseDisk(raw, 96 * MiB);
      run('sgdisk', ['-n', '1:2048:+32M', '-t', `1:${NETBSD_FFS}`, '-c', '1:root', '-n', '2:0:0', '-t', `2:${NETBSD_SWAP}`, '-c', '2:swap', raw]);
      const src = await FileSource.open(raw);
      const p = (await readPartitionMap(src)).partitions[1];
      await src.close();
      swap = { start: p.start, size: p.size };
      ({ img, dumplo } = await placeDump(raw, swap, { flavour: 'amd64', seed: 71 }));
      // some incompressible bytes, so the gzip stream has real blocks to index across
      let x = 0x2545f491;
      await writeAt(raw, 2048 * 512 + 5 * MiB, new Uint8Array(6 * MiB).map(() => ((x = (x * 1103515245 + 12345) >>> 0) >>> 24)));
      writeFileSync(kernel, img.kernel);
      gzipFile(raw, gz);
    });

    it('opens as the disk it holds: the same bytes as the raw disk, read-only', async () => {
      const src = await openDiskSource(gz);
      const orig = readFileSync(raw);
      try {
        expect(isGzipImage(src)).toBe(true);
        expect(src.size).toBe(orig.length);
        for (const o of [0, 512, swap.start + dumplo * 512, 2048 * 512 + 5 * MiB - 10, orig.length - 4096, 17 * MiB + 3]) {
          const b = new Uint8Array(70_000);
          const n = await src.pread(b, o);
          expect(Buffer.from(b.subarray(0, n)).equals(orig.subarray(o, o + 70_000)), `offset ${o}`).toBe(true);
        }
      } finally {
        await src.close();
      }
      await expect(openDiskSource(gz, { writable: true })).rejects.toThrow(`${gz}: a gzip-compressed image is read-only evidence: nothing is written to it`);
    });

    it('disks finds the same partitions and dump (partition 2, same dumplo) as on the raw disk, and says it is a gzip image', () => {
      const a = kvmdump(['disks', gz, '--kernel', kernel, '--json']);
      const b = kvmdump(['disks', raw, '--kernel', kernel, '--json']);
      expect([a.code, a.stderr]).toEqual([0, '']);
      expect(a.json.partitions).toEqual(b.json.partitions);
      expect(a.json.dumps).toEqual(b.json.dumps);
      expect(a.json.dumps[0]).toMatchObject({ partition: '2', dumplo, state: 'not-saved' });
      expect(a.json.image).toMatchObject({ format: 'gzip', files: [gz], compressedSize: readFileSync(gz).length });
      const t = kvmdump(['disks', gz, '--quick']);
      expect(t.stdout.split('\n')[0]).toMatch(new RegExp(`^${gz}: 96 MiB, GPT \\(gzip image, [\\d.]+ [KM]iB compressed\\)$`));
    });

    it('scan reads the disk, not the compressed bytes: whole and --partition, as on the raw disk', () => {
      const whole = kvmdump(['scan', '--dump', gz, '--json']);
      expect(whole.code, whole.stderr).toBe(0);
      expect(whole.json).toEqual(kvmdump(['scan', '--dump', raw, '--json']).json);
      expect(whole.json.candidates[0]).toMatchObject({ offset: swap.start + dumplo * 512, inPartition: { partition: '2', dumplo } });
      const part = kvmdump(['scan', '--dump', gz, '--partition', '2', '--json']);
      expect(part.code, part.stderr).toBe(0);
      expect(part.json).toEqual(kvmdump(['scan', '--dump', raw, '--partition', '2', '--json']).json);
      expect(part.json.candidates.map((c: { offset: number }) => c.offset)).toEqual([dumplo * 512]);
    });

    it('--partition on dump commands reads the gzip image as the disk', () => {
      const off = String(dumplo * 512);
      for (const cmd of [['mkheader'], ['read', '--symbol', 'version', '--length', '64']]) {
        const a = kvmdump([...cmd, '--kernel', kernel, '--dump', gz, '--partition', '2', '--dump-offset', off, '--json']);
        const b = kvmdump([...cmd, '--kernel', kernel, '--dump', raw, '--partition', '2', '--dump-offset', off, '--json']);
        expect(a.code, a.stderr).toBe(0);
        expect(a.json).toEqual(b.json);
      }
    });

    it('savecore --partition from the .gz writes the same core as from the raw disk; invalidation refuses, clearly', async () => {
      const d1 = join(dir, 'crash-gz');
      const d2 = join(dir, 'crash-raw');
      const d3 = join(dir, 'crash-gz-found');
      [d1, d2, d3].forEach((d) => mkdirSync(d));
      const fromGz = await runSavecore({ directory: d1, device: gz, partition: '2', kernel, now: NOW });
      const fromRaw = await runSavecore({ directory: d2, device: raw, partition: '2', kernel, now: NOW, keep: true });
      expect(fromRaw.status).toBe('saved');
      expect(readFileSync(fromGz.files!.core).equals(readFileSync(fromRaw.files!.core))).toBe(true);
      expect(fromGz.invalidation).toMatchObject({ status: 'failed' });
      expect(fromGz.invalidation!.error).toContain('a gzip-compressed image is read-only evidence: nothing is written to it');
      expect(fromGz.exitCode).toBe(1);
      // without --partition: the dump is found in partition 2 of the disk the .gz holds
      const found = await runSavecore({ directory: d3, device: gz, kernel, now: NOW, keep: true });
      expect([found.status, found.partition?.id]).toEqual(['saved', '2']);
      expect(readFileSync(found.files!.core).equals(readFileSync(fromRaw.files!.core))).toBe(true);
    });

    it('a truncated .gz is a clear error naming the file and the compressed offset; --verify-image says what a gzip image can verify', () => {
      const cut = join(dir, 'cut.img.gz');
      writeFileSync(cut, readFileSync(gz).subarray(0, 40_000));
      for (const args of [['disks', cut], ['scan', '--dump', cut, '--partition', '2']]) {
        const r = kvmdump(args);
        expect(r.code).toBe(1);
        expect(r.stdout.trim()).toMatch(new RegExp(`^kvmdump: ${cut.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: corrupt gzip data: .* at compressed offset \\d+`));
      }
      const v = kvmdump(['disks', gz, '--quick', '--verify-image']);
      expect(v.code, v.stderr).toBe(0);
      expect(v.stdout).toContain('--verify-image: a gzip image stores no MD5 or SHA-1; its CRC-32 and length were checked when it was indexed');
    });

    it('inval --partition on the .gz refuses before touching anything', () => {
      const before = readFileSync(gz);
      const r = kvmdump(['inval', '--yes', '--kernel', kernel, '--dump', gz, '--partition', '2', '--dump-offset', String(dumplo * 512), '--json']);
      expect(r.code).toBe(1);
      expect(JSON.stringify(r.json)).toContain('a gzip-compressed image is read-only evidence');
      expect(readFileSync(gz).equals(before)).toBe(true);
    });
  });
}
