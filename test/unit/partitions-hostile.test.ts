// Hostile partition maps: loops, absurd counts, overlaps and partitions past the end give a
// warning and a bounded answer, never a hang or a crash; random bytes (fast-check) likewise.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32 } from '../../core/partitions/crc32.ts';
import { locateDumps, readPartitionMap } from '../../core/partitions/index.ts';
import { MemorySource } from '../../core/source.ts';
import { encodeDiskLabel } from '../fixtures/disklabel.ts';

function mbr(disk: Uint8Array, sectorLba: number, entries: { type: number; start: number; sectors: number }[]): void {
  const at = sectorLba * 512;
  const dv = new DataView(disk.buffer, disk.byteOffset);
  entries.forEach((e, i) => {
    disk[at + 446 + 16 * i + 4] = e.type;
    dv.setUint32(at + 446 + 16 * i + 8, e.start, true);
    dv.setUint32(at + 446 + 16 * i + 12, e.sectors, true);
  });
  disk[at + 510] = 0x55;
  disk[at + 511] = 0xaa;
}

describe('hostile MBRs', () => {
  it('an extended chain that loops back ends with a warning', async () => {
    const disk = new Uint8Array(1 << 20);
    mbr(disk, 0, [{ type: 0x05, start: 100, sectors: 1000 }]);
    mbr(disk, 100, [{ type: 0x83, start: 1, sectors: 10 }, { type: 0x05, start: 50, sectors: 100 }]);
    mbr(disk, 150, [{ type: 0x83, start: 1, sectors: 10 }, { type: 0x05, start: 0, sectors: 100 }]); // back to the first EBR
    const map = await readPartitionMap(new MemorySource(disk));
    expect(map.partitions.map((p) => p.id)).toEqual(['1', '5', '6']);
    expect(map.warnings).toContain('MBR: the extended partition chain loops back to the EBR at sector 100; stopped there');
  });

  it('an absurdly long chain stops at 128 logical partitions', async () => {
    const disk = new Uint8Array(512 * 400);
    mbr(disk, 0, [{ type: 0x0f, start: 1, sectors: 399 }]);
    for (let i = 1; i < 399; i++) mbr(disk, i, [{ type: 0x83, start: 0, sectors: 1 }, { type: 0x05, start: i, sectors: 1 }]);
    const map = await readPartitionMap(new MemorySource(disk));
    expect(map.partitions.length).toBe(1 + 128);
    expect(map.warnings).toContain('MBR: more than 128 logical partitions; the rest of the chain was not followed');
  });

  it('partitions past the end of the disk are marked, overlaps reported', async () => {
    const disk = new Uint8Array(1 << 20);
    mbr(disk, 0, [{ type: 0x83, start: 1, sectors: 100 }, { type: 0x83, start: 50, sectors: 100 }, { type: 0x82, start: 1000, sectors: 0xffffffff }]);
    const map = await readPartitionMap(new MemorySource(disk));
    expect(map.partitions.find((p) => p.id === '3')?.truncated).toBe(true);
    expect(map.warnings).toEqual([
      `MBR partition 3 ends at byte ${(1000 + 0xffffffff) * 512}, past the end of the disk (${1 << 20})`,
      'MBR partition 2 overlaps MBR partition 1',
    ]);
  });
});

describe('hostile GPTs and disklabels', () => {
  it('a GPT header claiming millions of entries (with a valid CRC) is refused, not allocated', async () => {
    const disk = new Uint8Array(1 << 20);
    mbr(disk, 0, [{ type: 0xee, start: 1, sectors: 2047 }]);
    const h = disk.subarray(512, 1024);
    h.set(new TextEncoder().encode('EFI PART'));
    const dv = new DataView(h.buffer, h.byteOffset);
    dv.setUint32(12, 92, true);
    dv.setBigUint64(24, 1n, true);
    dv.setBigUint64(72, 2n, true);
    dv.setUint32(80, 50_000_000, true);
    dv.setUint32(84, 128, true);
    dv.setUint32(16, crc32(h.subarray(0, 92)), true);
    const map = await readPartitionMap(new MemorySource(disk));
    expect(map.warnings[0]).toBe('GPT: primary damaged: entry array of 50000000 × 128 bytes is larger than any real GPT (limit 4096 entries, 1048576 bytes)');
  });

  it('a disklabel with more partitions than fit, or a bad checksum, is reported and not used', async () => {
    const disk = new Uint8Array(1 << 20);
    const label = encodeDiskLabel([{ offset: 64, size: 100, fstype: 1 }], { npartitions: 1 });
    disk.set(label, 512);
    new DataView(disk.buffer).setUint16(512 + 138, 5000, true);
    let map = await readPartitionMap(new MemorySource(disk));
    expect(map.partitions).toEqual([]);
    expect(map.warnings).toEqual(['disklabel at byte 512: d_npartitions (byte 650) is 5000, more than fit in its sector (22)']);
    disk.set(label, 512);
    disk[512 + 148] ^= 1;
    map = await readPartitionMap(new MemorySource(disk));
    expect(map.warnings).toEqual(['disklabel at byte 512: checksum (d_checksum, byte 648) does not match (XOR is 0x1)']);
  });

  it('random bytes in the map sectors never crash or hang the parser or the dump search', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 8 * 512 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 512, max: 1 << 20 }), async (head, kind, size) => {
        const disk = new Uint8Array(size);
        disk.set(head.subarray(0, size));
        if (kind === 1 && size >= 512) { disk[510] = 0x55; disk[511] = 0xaa; } // force the MBR path
        if (kind === 2 && size >= 1024) { disk.set(new TextEncoder().encode('EFI PART'), 512); disk[450] = 0xee; disk[510] = 0x55; disk[511] = 0xaa; }
        if (kind === 3 && size >= 1024) new DataView(disk.buffer).setUint32(512, 0x82564557, true);
        const src = new MemorySource(disk);
        const map = await readPartitionMap(src);
        expect(map.partitions.length).toBeLessThanOrEqual(4 + 128 + 22 + 4096);
        const r = await locateDumps(src, map, { allPartitions: true });
        expect(r.bytesRead).toBeLessThanOrEqual(map.partitions.length * (size + 4096) + 4096);
      }),
      { numRuns: 300 },
    );
  });
});
