#!/usr/bin/env node
// Export throughput of `kvmdump savecore` against the plain tools on the same image in the same run:
// plain export vs dd (bs=1M, fsync) and cat, -z vs `gzip -1`. Not part of the tests.
//
//   npm run build:node && node bench/savecore.mjs [--mem-mib 512] [--keep-files] [--zero-pages]
//
// The image comes from ../shared/tools/mkdump beside the repository (or MKDUMP_DIR). Its free pages are zero, which
// flatters every compressor; unless --zero-pages is given they are filled with half-compressible
// bytes first (memory contents are arbitrary to savecore, so the dump stays valid).

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const value = (name, dflt) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
const memMiB = Number(value('--mem-mib', '512'));
const MKDUMP = process.env.MKDUMP_DIR ?? new URL('../../shared/tools/mkdump', import.meta.url).pathname;
const BIN = new URL('../bin/kvmdump.mjs', import.meta.url).pathname;

const root = mkdtempSync(join(value('--tmp', tmpdir()), 'savecore-bench-'));
const dumpDir = join(root, 'dump');
process.stderr.write(`generating a ${memMiB} MiB amd64 dump in ${dumpDir} …\n`);
execFileSync('python3', [join(MKDUMP, 'mkdump.py'), '--out', dumpDir, '--arch', 'amd64', '--mem-mib', String(memMiB), '--seed', '7'], { stdio: 'ignore' });
const manifest = JSON.parse(readFileSync(join(dumpDir, 'manifest.json'), 'utf8'));
const image = join(dumpDir, 'dump.img');
const kernel = join(dumpDir, 'netbsd');
if (!flag('--zero-pages')) fillZeroPages(image, manifest.mem_off);
const size = statSync(image).size;

function fillZeroPages(path, from) {
  const fd = openSync(path, 'r+');
  const page = Buffer.alloc(4096);
  let x = 0x12345678;
  for (let off = from; ; off += 4096) {
    const n = readSync(fd, page, 0, 4096, off);
    if (n < 4096) break;
    if (page.some((b) => b !== 0)) continue;
    for (let i = 0; i < 4096; i += 4) {
      x = (x * 1103515245 + 12345) >>> 0;
      page.writeUInt32LE(i % 64 < 32 ? x & 0x0f0f0f0f : 0x20202020, i); // roughly 2:1 for gzip -1
    }
    writeSync(fd, page, 0, 4096, off);
  }
  closeSync(fd);
}

function timed(label, cmd, args, opts = {}) {
  spawnSync('sync');
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', opts.stdout ?? 'ignore', 'pipe'], shell: opts.shell ?? false, encoding: 'utf8' });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${label} failed (${r.status}): ${r.stderr}`);
  return s;
}

function out(dir) {
  const p = join(root, dir);
  rmSync(p, { recursive: true, force: true });
  mkdirSync(p);
  return p;
}

// Warm the page cache so every contender reads from memory.
timed('warm', 'cat', [image], { stdout: 'ignore' });

const common = ['-N', kernel, '--dump-offset', String(manifest.dump_off), '--now', String(manifest.decoded.time_second), '--keep'];
const results = {};
const mibps = (s) => size / (1 << 20) / s;

results.cat = timed('cat', 'sh', ['-c', `cat '${image}' > '${join(out('cat'), 'out')}' && sync`]);
results.dd = timed('dd', 'dd', [`if=${image}`, `of=${join(out('dd'), 'out')}`, 'bs=1M', 'conv=fsync']);
results.savecore = timed('savecore', process.execPath, [BIN, 'savecore', ...common, out('plain'), image]);
results.gzip1 = timed('gzip -1', 'sh', ['-c', `gzip -1 -c '${image}' > '${join(out('gz'), 'out.gz')}' && sync`]);
results.savecoreZ = timed('savecore -z', process.execPath, [BIN, 'savecore', '-z', ...common, out('z'), image]);

const row = (name, s) => `${name.padEnd(22)} ${s.toFixed(2).padStart(7)} s  ${mibps(s).toFixed(0).padStart(6)} MiB/s`;
console.log(`image: ${(size / (1 << 20)).toFixed(0)} MiB (mkdump amd64 --mem-mib ${memMiB}${flag('--zero-pages') ? '' : ', free pages filled'})`);
console.log(row('cat > file && sync', results.cat));
console.log(row('dd bs=1M conv=fsync', results.dd));
console.log(row('kvmdump savecore', results.savecore) + `   (incl. verify read-back, manifest, report)`);
console.log(row('gzip -1 && sync', results.gzip1));
console.log(row('kvmdump savecore -z', results.savecoreZ));
console.log(`ratio plain  savecore/dd  throughput: ${(results.dd / results.savecore).toFixed(2)}`);
console.log(`ratio plain  savecore/cat throughput: ${(results.cat / results.savecore).toFixed(2)}`);
console.log(`ratio -z     savecore/gzip -1 throughput: ${(results.gzip1 / results.savecoreZ).toFixed(2)}`);
console.log(JSON.stringify({ bytes: size, seconds: results, ratios: { plainVsDd: results.dd / results.savecore, plainVsCat: results.cat / results.savecore, gzVsGzip1: results.gzip1 / results.savecoreZ } }));
if (!flag('--keep-files')) rmSync(root, { recursive: true, force: true });
