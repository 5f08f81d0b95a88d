// Bench inputs from the project's own fixture builder (test/fixtures/dump-image.ts), bundled with
// esbuild so it runs under plain node. The builder leaves free memory zero (sparse); the bench
// fills it with a realistic page mix, chosen per page from a seeded hash: half zero, a quarter
// text-like, an eighth pointer-like, an eighth random. Memory contents are arbitrary to every
// tool measured, so the dump stays valid.

import { build } from 'esbuild';
import { closeSync, existsSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = new URL('..', new URL('..', import.meta.url)).pathname;
const PAGE = 4096;

let builder = null;

/** Bundled once per process (so a --work directory never keeps a stale builder). */
export async function fixtureBuilder(workDir) {
  if (builder) return builder;
  const out = join(workDir, `fixture-builder-${process.pid}.mjs`);
  await build({
    stdin: { contents: "export { buildDumpImage } from './test/fixtures/dump-image.ts'; export { writeImageFile } from './test/fixtures/write-image.ts';", resolveDir: ROOT, loader: 'ts' },
    bundle: true, platform: 'node', format: 'esm', outfile: out, logLevel: 'error',
  });
  builder = await import(out);
  rmSync(out, { force: true });
  return builder;
}

/**
 * An amd64 dump image of about memMiB MiB at dumplo 64 (header at 32768), free pages filled with
 * the mix. Cached in workDir by size. Returns { image, kernel, size, memOff, headerOff, layout, mappings
 * (the kernel's own, without the direct map), segments }.
 */
export async function realisticDump(workDir, memMiB, log = () => {}) {
  const image = join(workDir, `dump-${memMiB}.img`);
  const kernel = join(workDir, `netbsd-${memMiB}`);
  const { buildDumpImage, writeImageFile } = await fixtureBuilder(workDir);
  const img = buildDumpImage({ flavour: 'amd64', seed: 7, memMiB });
  const facts = { image, kernel, size: img.size, memOff: img.facts.memOff, headerOff: img.facts.dumpOff, layout: img.facts.layout, mappings: img.facts.kernelData.mappings, segments: img.facts.segments };
  if (existsSync(image) && existsSync(kernel)) return facts;
  log(`generating a ${memMiB} MiB amd64 dump …`);
  const { writeFile } = await import('node:fs/promises');
  await writeFile(kernel, img.kernel);
  await writeImageFile(img, image + '.tmp');
  fillFreePages(image + '.tmp', img.facts.memOff, img.size);
  const { renameSync } = await import('node:fs');
  renameSync(image + '.tmp', image);
  return facts;
}

function fillFreePages(path, from, size) {
  const fd = openSync(path, 'r+');
  const batch = 256;
  const buf = Buffer.alloc(PAGE * batch);
  let x = 0x9e3779b9;
  const rnd = () => (x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0);
  const words = ['panic', 'uvm_fault', 'proc', 'vnode', 'mutex_enter', 'kernel', 'the ', 'and ', 'lwp', '\n', 'sys_', 'netbsd'];
  for (let off = from; off < size; off += buf.length) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, size - off), off);
    for (let p = 0; p + PAGE <= n; p += PAGE) {
      const page = buf.subarray(p, p + PAGE);
      if (page.some((b) => b !== 0)) continue; // the fixture's own page tables and data
      const kind = rnd() & 7; // 0-3 zero, 4-5 text, 6 pointers, 7 random
      if (kind < 4) continue;
      if (kind < 6) {
        let i = 0;
        while (i < PAGE) i += page.write(words[rnd() % words.length], i, 'latin1');
      } else if (kind === 6) {
        for (let i = 0; i < PAGE; i += 8) page.writeBigUInt64LE(0xffffffff80000000n | BigInt((rnd() & 0xffffff) << 3), i);
      } else {
        for (let i = 0; i < PAGE; i += 4) page.writeUInt32LE(rnd(), i);
      }
    }
    writeSync(fd, buf, 0, n, off);
  }
  closeSync(fd);
}

/**
 * An amd64 dump image whose header describes memMiB of memory and whose kernel carries
 * fillerSymbols extra symbols (GENERIC has about 100k), written sparse: the fixture's own pages
 * only, the rest a hole (a 64 GiB image costs a few hundred MiB of disk at most). Cached in workDir.
 */
export async function sparseDump(workDir, memMiB, fillerSymbols, log = () => {}) {
  const image = join(workDir, `sparse-${memMiB}.img`);
  const kernel = join(workDir, `netbsd-sparse-${memMiB}-${fillerSymbols}`);
  const { buildDumpImage, writeImageFile } = await fixtureBuilder(workDir);
  if (existsSync(image) && existsSync(kernel)) return { image, kernel, headerOff: 64 * 512 };
  log(`generating a sparse ${memMiB} MiB amd64 dump, kernel with ${fillerSymbols} extra symbols …`);
  const img = buildDumpImage({ flavour: 'amd64', seed: 7, memMiB, fillerSymbols });
  const { writeFile } = await import('node:fs/promises');
  await writeFile(kernel + '.tmp', img.kernel);
  await writeImageFile(img, image + '.tmp');
  const { renameSync } = await import('node:fs');
  renameSync(kernel + '.tmp', kernel);
  renameSync(image + '.tmp', image);
  return { image, kernel, headerOff: img.facts.dumpOff, size: img.size };
}
