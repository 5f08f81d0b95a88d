// The PC master boot record (sys/sys/bootblock.h: struct mbr_sector, struct mbr_partition): four
// primary entries at byte 446, signature 0x55AA at 510, and extended partitions whose EBRs chain
// logical partitions. Written here rather than taken from the npm `mbr` package: that package
// parses a Node Buffer (core is Buffer-free) and follows no chain with loop or count limits, so
// the hostile-input guarantees would have had to be wrapped around it anyway.

import { preadFully, type DumpSource } from '../source.ts';
import { LIMITS, SECTOR, type NetbsdKind, type Partition } from './types.ts';

export const MBR_PTYPE_NETBSD = 0xa9;
export const MBR_PTYPE_GPT_PROTECTIVE = 0xee;
const EXTENDED = new Set([0x05, 0x0f, 0x85]);

const TYPE_NAMES: Record<number, string> = {
  0x01: 'FAT12', 0x04: 'FAT16', 0x05: 'Extended', 0x06: 'FAT16', 0x07: 'NTFS/exFAT', 0x0b: 'FAT32', 0x0c: 'FAT32 (LBA)',
  0x0e: 'FAT16 (LBA)', 0x0f: 'Extended (LBA)', 0x82: 'Linux swap', 0x83: 'Linux', 0x85: 'Linux extended', 0x8e: 'Linux LVM',
  0xa5: 'FreeBSD', 0xa6: 'OpenBSD', 0xa9: 'NetBSD', 0xee: 'GPT protective', 0xef: 'EFI system', 0xfd: 'Linux RAID',
};

export interface MbrEntry {
  type: number;
  /** Sector numbers as stored (relative to the disk for primaries, resolved to absolute for logicals). */
  startLba: number;
  sectors: number;
}

/** The four primary entries, or null when sector 0 has no 0x55AA signature. */
export function decodeMbrSector(sector: Uint8Array): MbrEntry[] | null {
  if (sector.length < SECTOR || sector[510] !== 0x55 || sector[511] !== 0xaa) return null;
  const dv = new DataView(sector.buffer, sector.byteOffset, SECTOR);
  const out: MbrEntry[] = [];
  for (let i = 0; i < 4; i++) {
    const at = 446 + 16 * i;
    out.push({ type: sector[at + 4], startLba: dv.getUint32(at + 8, true), sectors: dv.getUint32(at + 12, true) });
  }
  return out;
}

export function mbrTypeName(type: number): string {
  return TYPE_NAMES[type] ?? `type 0x${type.toString(16).padStart(2, '0')}`;
}

function mbrKind(type: number): NetbsdKind {
  return type === MBR_PTYPE_NETBSD ? 'netbsd-mbr' : 'other';
}

function partitionOf(id: string, e: MbrEntry): Partition {
  const hex = `0x${e.type.toString(16).padStart(2, '0')}`;
  return {
    id, scheme: 'mbr', name: id, type: hex, typeName: mbrTypeName(e.type), kind: mbrKind(e.type),
    start: e.startLba * SECTOR, size: e.sectors * SECTOR,
  };
}

/**
 * Primaries (ids 1-4) and logicals (ids 5…, in chain order, as Linux numbers them). Each EBR's
 * first entry is relative to that EBR, its second (the link) to the extended partition's start.
 * A chain that revisits an EBR, leaves the extended partition or exceeds LIMITS.maxLogical ends
 * with a warning.
 */
export async function readMbr(src: DumpSource, sector0: Uint8Array, warnings: string[]): Promise<Partition[]> {
  const primaries = decodeMbrSector(sector0);
  if (!primaries) return [];
  const out: Partition[] = [];
  let extended: MbrEntry | null = null;
  primaries.forEach((e, i) => {
    if (e.type === 0 || e.sectors === 0) return;
    out.push(partitionOf(String(i + 1), e));
    if (EXTENDED.has(e.type)) {
      if (extended) warnings.push(`MBR: entry ${i + 1} is a second extended partition; only the first is followed`);
      else extended = e;
    }
  });
  if (extended) out.push(...(await readLogicals(src, extended, warnings)));
  return out;
}

async function readLogicals(src: DumpSource, ext: MbrEntry, warnings: string[]): Promise<Partition[]> {
  const out: Partition[] = [];
  const seen = new Set<number>();
  const extEnd = ext.startLba + ext.sectors;
  const sector = new Uint8Array(SECTOR);
  let ebr = ext.startLba;
  while (true) {
    if (seen.has(ebr)) {
      warnings.push(`MBR: the extended partition chain loops back to the EBR at sector ${ebr}; stopped there`);
      break;
    }
    if (out.length >= LIMITS.maxLogical) {
      warnings.push(`MBR: more than ${LIMITS.maxLogical} logical partitions; the rest of the chain was not followed`);
      break;
    }
    seen.add(ebr);
    if ((await preadFully(src, sector, ebr * SECTOR)) !== SECTOR) {
      warnings.push(`MBR: the EBR at sector ${ebr} lies past the end of the disk`);
      break;
    }
    const entries = decodeMbrSector(sector);
    if (!entries) {
      warnings.push(`MBR: no 0x55AA signature in the EBR at sector ${ebr} (byte ${ebr * SECTOR}); chain ends there`);
      break;
    }
    const [logical, link] = entries;
    if (logical.type !== 0 && logical.sectors !== 0) {
      const abs = { ...logical, startLba: ebr + logical.startLba };
      if (abs.startLba + abs.sectors > extEnd) warnings.push(`MBR: logical partition ${5 + out.length} extends past its extended partition`);
      out.push(partitionOf(String(5 + out.length), abs));
    }
    if (link.sectors === 0 || !EXTENDED.has(link.type)) break;
    const next = ext.startLba + link.startLba;
    if (next >= extEnd || next < ext.startLba) {
      warnings.push(`MBR: the EBR at sector ${ebr} links to sector ${next}, outside the extended partition; chain ends there`);
      break;
    }
    ebr = next;
  }
  return out;
}
