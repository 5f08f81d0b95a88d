// Locating a dump through a gather read (one sector per candidate page, from a file descriptor)
// finds exactly what the large backwards reads find, and reads an eighth of the bytes.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { locateInRange } from '../../core/partitions/index.ts';
import { WindowSource } from '../../core/partitions/window-source.ts';
import { preadEachFully, type DumpSource } from '../../core/source.ts';
import { openSource, type NodeSource } from '../../main/sources/node-source.ts';
import { endDumplo, placeDump, sparseDisk, writeAt } from '../fixtures/disk-image.ts';
import { FileSource } from '../fixtures/file-source.ts';

const MiB = 1 << 20;
const dir = mkdtempSync(join(tmpdir(), 'kvmdump-gather-'));
const part = { start: 3 * MiB, size: 40 * MiB };

/** A header-like sector (KCORE_MAGIC, CORE_CPU, MID amd64) that is no valid header: c_size 0. */
function decoy(): Uint8Array {
  const s = new Uint8Array(512);
  // midmag in network order: flag 1 (CORE_CPU) << 26 | mid 0x8c (amd64) << 16 | 0x8fca.
  new DataView(s.buffer).setUint32(0, ((1 << 26) | (0x8c << 16) | 0x8fca) >>> 0, false);
  return s;
}

async function both(path: string, start: number, size: number) {
  const gatherSrc = await openSource(path);
  const plainSrc = await FileSource.open(path);
  try {
    expect(gatherSrc.preadEach).toBeTypeOf('function');
    expect((plainSrc as DumpSource).preadEach).toBeUndefined();
    const gc = { bytesRead: 0 };
    const pc = { bytesRead: 0 };
    const gathered = await locateInRange(gatherSrc, start, size, null, {}, gc);
    const plain = await locateInRange(plainSrc, start, size, null, {}, pc);
    return { gathered, plain, gatherRead: gc.bytesRead, plainRead: pc.bytesRead };
  } finally {
    await gatherSrc.close();
    await plainSrc.close();
  }
}

describe('locateInRange through a gather read', () => {
  const endDisk = join(dir, 'end.img');
  const fitsDisk = join(dir, 'fits.img');
  let dumplo = 0;
  let memoryBytes = 0;
  beforeAll(async () => {
    await sparseDisk(endDisk, 48 * MiB);
    ({ dumplo } = await placeDump(endDisk, part, { flavour: 'amd64', seed: 11 }));
    // Decoys at the highest candidate blocks: they look like headers, the full check refuses them.
    const nblks = part.size / 512;
    for (const k of [0, 1, 7]) await writeAt(endDisk, part.start + (nblks - 1 - 8 - 8 * k) * 512, decoy());
    // The same dump sixteen pages lower: it fits, and ends before the partition's end.
    await sparseDisk(fitsDisk, 48 * MiB);
    const probe = await placeDump(fitsDisk, part, { flavour: 'amd64', seed: 11 });
    memoryBytes = (nblks - 1 - probe.dumplo) * 512;
    await sparseDisk(fitsDisk, 48 * MiB);
    await placeDump(fitsDisk, part, { flavour: 'amd64', seed: 11, dumplo: probe.dumplo - 8 * 16 });
  });

  it('finds the dump at the partition end past decoys, the same answer as backwards reads, reading an eighth', async () => {
    const r = await both(endDisk, part.start, part.size);
    expect(dumplo).toBe(endDumplo(part.size, memoryBytes));
    expect(r.gathered).toEqual(r.plain);
    expect(r.gathered).toMatchObject({ dumplo, offset: part.start + dumplo * 512, machine: 'amd64', placement: 'end', memoryBytes });
    // The extent from the header to the end, one sector per page, plus what the header checks read.
    const probes = (part.size / 512 - 1 - 8 - dumplo) / 8 + 1;
    expect(r.gatherRead).toBeGreaterThanOrEqual(probes * 512);
    expect(r.gatherRead).toBeLessThan(probes * 512 + 64 * 1024);
    expect(r.plainRead).toBeGreaterThan(memoryBytes);
    expect(r.gatherRead * 6).toBeLessThan(r.plainRead);
  });

  it('finds a dump that ends before the partition end ("fits") the same way', async () => {
    const r = await both(fitsDisk, part.start, part.size);
    expect(r.gathered).toEqual(r.plain);
    expect(r.gathered).toMatchObject({ placement: 'fits', memoryBytes });
  });

  it('keeps to the search budget: the extent searched, not the bytes read', async () => {
    const src = await openSource(endDisk);
    try {
      const counter = { bytesRead: 0 };
      const hit = await locateInRange(src, part.start, part.size, null, { maxBytesPerPartition: MiB }, counter);
      expect(hit).toBeNull(); // the dump is larger than 1 MiB
      // 256 probes for the last MiB and the ctod(1) sector, plus the full check of the three decoys.
      expect(counter.bytesRead).toBeGreaterThanOrEqual(257 * 512);
      expect(counter.bytesRead).toBeLessThan(257 * 512 + 3 * 4096);
    } finally {
      await src.close();
    }
  });
});

describe('NodeSource.preadEach', () => {
  const file = join(dir, 'slots.img');
  let src: NodeSource;
  beforeAll(async () => {
    await sparseDisk(file, 8 * MiB);
    for (let i = 0; i < 16; i++) await writeAt(file, i * 65536 + 100, Uint8Array.of(i + 1, 0xaa));
    src = await openSource(file);
  });
  afterAll(async () => src.close());

  it('reads each slot at its offset, in slot order', async () => {
    const offsets = [15, 3, 0, 7].map((i) => i * 65536 + 100);
    const buf = new Uint8Array(4 * 2);
    expect(await src.preadEach!(buf, offsets, 2)).toBe(4);
    expect([...buf]).toEqual([16, 0xaa, 4, 0xaa, 1, 0xaa, 8, 0xaa]);
  });

  it('stops at a slot past the end of the file; preadEachFully reports the whole ones before it', async () => {
    const buf = new Uint8Array(4 * 512);
    expect(await src.preadEach!(buf, [0, 8 * MiB - 256, 512], 512)).toBe(1);
    expect(await preadEachFully(src, buf, [512, 1024, 8 * MiB - 256, 0], 512)).toBe(2);
  });

  it('gives the event loop a turn on long gathers, and preadEachFully carries on to the end', async () => {
    const n = 200_000;
    const offsets = Array.from({ length: n }, (_, i) => (i % 2048) * 4096);
    const len = 128;
    const buf = new Uint8Array(n * len);
    const first = await src.preadEach!(buf, offsets, len);
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(n); // 200 000 reads do not fit one 8 ms slice
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      expect(await preadEachFully(src, buf, offsets, len)).toBe(n);
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThan(0);
    // Slots 16 and 2064 are file offset 65536, where byte 100 holds 2, 0xaa; slot 17 is a hole.
    for (const slot of [16, 2064, 2048 * 97 + 16]) expect([...buf.subarray(slot * len + 100, slot * len + 102)]).toEqual([2, 0xaa]);
    expect(buf.subarray(17 * len, 18 * len).every((b) => b === 0)).toBe(true);
  });

  it('is bounded by a window: slots past its end are short', async () => {
    const win = new WindowSource(src, 65536, 65536 + 512);
    const buf = new Uint8Array(2 * 2);
    expect(await preadEachFully(win, buf, [100, 65536 + 100], 2)).toBe(2);
    expect([...buf]).toEqual([2, 0xaa, 3, 0xaa]);
    expect(await preadEachFully(win, buf, [100, 65536 + 511], 2)).toBe(1);
  });
});
