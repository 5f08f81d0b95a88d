// disk-locate (issue 15): `kvmdump disks` finding the dump on a 64 GiB sparse GPT image whose 8 GiB
// NetBSD swap partition ends with the dump (where cpu_dumpconf puts it), against reading that swap
// partition once (`cat` of the partition: dd over its byte range, 1 MiB blocks). Targets: under 2 s
// and under 1% of the image read (every byte the survey reads: map, search, inspection).
// The search reads one sector per 4 KiB page from the partition's end back to the header (the only
// blocks cpu_dumpconf can put it at), in gathers of synchronous sector reads on the descriptor:
// an eighth of the dump's extent, plus the bounded ksyms search (64 MiB when the dump has no ksyms)
// and the partition map. For the 1 GiB dump that is about 193 MiB, 0.3% of the 64 GiB image.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, renameSync, statSync, ftruncateSync } from 'node:fs';
import { join } from 'node:path';
import { alternate, BIN } from '../lib/measure.mjs';
import { realisticDump } from '../lib/input.mjs';

const GiB = 2 ** 30;
const DISK = 64 * GiB;
const SWAP = 8 * GiB;
const SECTOR = 512;

function tool(name) {
  for (const d of ['/usr/sbin', '/sbin', '/usr/bin', '/bin']) if (existsSync(join(d, name))) return join(d, name);
  throw new Error(`${name} not found (Debian package gdisk)`);
}

/** The image, made once per work directory: GPT by sgdisk, the dump copied to the swap partition's end by dd. */
async function diskImage(ctx) {
  const d = await realisticDump(ctx.workDir, ctx.memMiB, ctx.log);
  const image = join(ctx.workDir, `disk-64g-swap8g-${ctx.memMiB}.img`);
  const lbas = DISK / SECTOR;
  // 1 MiB aligned (sgdisk moves unaligned starts), before the backup GPT's last 33 sectors.
  const swapFirst = Math.floor((lbas - 34 - SWAP / SECTOR) / 2048) * 2048;
  const swapStart = swapFirst * SECTOR;
  const swapSize = SWAP;
  const dumpBytes = d.size - d.headerOff; // header + memory
  const dumplo = swapSize / SECTOR - dumpBytes / SECTOR;
  if (existsSync(image)) return { image, swapStart, swapSize, dumplo };
  ctx.log('generating a 64 GiB sparse GPT image with the dump at the end of its 8 GiB swap partition …');
  const tmp = `${image}.tmp`;
  const fd = openSync(tmp, 'w');
  ftruncateSync(fd, DISK);
  closeSync(fd);
  execFileSync(tool('sgdisk'), [
    '-n', `1:2048:${swapFirst - 1}`, '-t', '1:49F48D5A-B10E-11DC-B99B-0019D1879648', '-c', '1:root',
    '-n', `2:${swapFirst}:${swapFirst + SWAP / SECTOR - 1}`, '-t', '2:49F48D32-B10E-11DC-B99B-0019D1879648', '-c', '2:swap', tmp,
  ], { stdio: 'ignore' });
  execFileSync('dd', [`if=${d.image}`, `of=${tmp}`, 'bs=1M', 'iflag=skip_bytes', 'oflag=seek_bytes', 'conv=notrunc,sparse',
    `skip=${d.headerOff}`, `seek=${swapStart + dumplo * SECTOR}`], { stdio: 'ignore' });
  renameSync(tmp, image);
  return { image, swapStart, swapSize, dumplo };
}

export default async function run(ctx) {
  const g = await diskImage(ctx);
  // What the survey finds and reads (one run, outside the timing).
  const r = spawnSync(process.execPath, [BIN, 'disks', g.image, '--json'], { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.status !== 0) throw new Error(`kvmdump disks: exit ${r.status}: ${r.stderr}`);
  const j = JSON.parse(r.stdout);
  const found = j.dumps.find((x) => x.partition === '2');
  if (!found || found.dumplo !== g.dumplo) throw new Error(`dump not found where it was put (dumplo ${g.dumplo}): ${JSON.stringify(j.dumps)}`);
  const fraction = j.bytesRead / statSync(g.image).size;
  const t = alternate([
    { name: 'ours', cmd: [process.execPath, BIN, 'disks', g.image, '--json'] },
    { name: 'cat', cmd: ['dd', `if=${g.image}`, 'of=/dev/null', 'bs=1M', 'iflag=skip_bytes,count_bytes', `skip=${g.swapStart}`, `count=${g.swapSize}`] },
  ], ctx.runs);
  const round = (x) => Math.round(x * 1000) / 1000;
  return [{
    figure: 'disk locate vs cat of the swap partition',
    ours: round(t.ours), peer: round(t.cat), ratio: round(t.cat / t.ours), target: null,
    pass: t.ours < 2 && fraction < 0.01, unit: 's',
    bytesRead: j.bytesRead, fractionRead: Number(fraction.toPrecision(3)),
    note: `64 GiB image, 8 GiB swap; ${(j.bytesRead / 2 ** 20).toFixed(1)} MiB read (${(100 * fraction).toFixed(3)}%); targets < 2 s and < 1%; state ${found.state}`,
  }];
}
