// Reading a disk's partition map the way a NetBSD kernel would see it: GPT (protective MBR or the
// signature at LBA 1), else the MBR with its extended chain and the disklabel inside the first
// NetBSD (0xA9) partition, else a bare disklabel. Bounded on hostile input: every read is of a
// known small size, every count is capped, and every oddity becomes a warning.

import { preadFully, type DumpSource } from '../source.ts';
import { diskLabelPartitions, findDiskLabel } from './disklabel.ts';
import { hasGptSignature, readGpt } from './gpt.ts';
import { decodeMbrSector, MBR_PTYPE_GPT_PROTECTIVE, readMbr } from './mbr.ts';
import { SECTOR, type Partition, type PartitionMap } from './types.ts';

export async function readPartitionMap(src: DumpSource): Promise<PartitionMap> {
  const warnings: string[] = [];
  const diskSize = src.size;
  const map: PartitionMap = { schemes: [], diskSize, partitions: [], warnings };
  const sector0 = new Uint8Array(SECTOR);
  if ((await preadFully(src, sector0, 0)) !== SECTOR) {
    warnings.push('the disk is smaller than one sector');
    return map;
  }
  const primaries = decodeMbrSector(sector0);
  const protective = primaries?.some((e) => e.type === MBR_PTYPE_GPT_PROTECTIVE) ?? false;
  if (protective || (await hasGptSignature(src))) {
    const gpt = await readGpt(src, diskSize, warnings);
    if (gpt) {
      map.schemes.push('gpt');
      map.partitions.push(...gpt);
    } else if (protective) {
      warnings.push('GPT: the MBR says the disk is GPT, but neither GPT header is usable');
    }
  }
  if (map.schemes.length === 0 && primaries) {
    map.schemes.push('mbr');
    const mbr = await readMbr(src, sector0, warnings);
    map.partitions.push(...mbr);
    const netbsd = mbr.find((p) => p.kind === 'netbsd-mbr');
    if (netbsd) {
      const label = await findDiskLabel(src, netbsd.start / SECTOR, warnings);
      if (label) {
        map.schemes.push('disklabel');
        map.partitions.push(...diskLabelPartitions(label, { start: netbsd.start, size: netbsd.size, id: netbsd.id }, warnings));
      } else {
        warnings.push(`MBR partition ${netbsd.id} is NetBSD (0xA9) but holds no valid disklabel`);
      }
    }
  }
  if (map.schemes.length === 0) {
    const label = await findDiskLabel(src, 0, warnings);
    if (label) {
      map.schemes.push('disklabel');
      map.partitions.push(...diskLabelPartitions(label, { start: 0, size: diskSize }, warnings));
    }
  }
  checkExtents(map);
  return map;
}

/** Partitions past the disk end are marked truncated; overlaps between siblings are reported. */
function checkExtents(map: PartitionMap): void {
  for (const p of map.partitions) {
    if (map.diskSize > 0 && p.start + p.size > map.diskSize) {
      p.truncated = true;
      map.warnings.push(`${describe(p)} ends at byte ${p.start + p.size}, past the end of the disk (${map.diskSize})`);
    }
  }
  const siblings = map.partitions.filter((p) => !p.raw && !isContainer(p, map.partitions)).sort((a, b) => a.start - b.start);
  let reach: Partition | null = null;
  for (const p of siblings) {
    if (reach && p.start < reach.start + reach.size) map.warnings.push(`${describe(p)} overlaps ${describe(reach)}`);
    if (!reach || p.start + p.size > reach.start + reach.size) reach = p;
  }
}

/** MBR extended and NetBSD partitions contain others; their overlap with their children is by design. */
function isContainer(p: Partition, all: Partition[]): boolean {
  if (p.scheme !== 'mbr') return false;
  if (['0x05', '0x0f', '0x85'].includes(p.type)) return true;
  return all.some((c) => c.parent === p.id);
}

export function describe(p: Partition): string {
  const what = p.scheme === 'disklabel' ? `disklabel partition ${p.id}` : `${p.scheme.toUpperCase()} partition ${p.id}`;
  return p.name && p.name !== p.id ? `${what} '${p.name}'` : what;
}

/** The partition a user named (`--partition 2`, `--partition b`). */
/** A partition by its number or disklabel letter, else by its GPT name when exactly one has it. */
export function findPartition(map: PartitionMap, id: string): Partition | undefined {
  const byId = map.partitions.find((p) => p.id === id.toLowerCase());
  if (byId) return byId;
  const named = map.partitions.filter((p) => p.scheme === 'gpt' && p.name === id);
  return named.length === 1 ? named[0] : undefined;
}
