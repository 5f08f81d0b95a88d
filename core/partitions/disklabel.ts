// The NetBSD disklabel (sys/sys/disklabel.h): d_magic and d_magic2 = DISKMAGIC 0x82564557, a
// 16-bit XOR checksum over the label up to the end of d_partitions[d_npartitions], and 16-byte
// partition entries at byte 148 whose p_offset is absolute on the disk. Where the label lives is
// per port (sys/arch/*/include/disklabel.h): amd64, i386 and evbarm/aarch64 use LABELSECTOR 1,
// LABELOFFSET 0 (inside the MBR 0xA9 partition when there is one); alpha and others sector 0,
// offset 64; sparc64 offset 128. Like the kernel's readdisklabel we look for the magic at every
// 4-byte step of the label sector, in either byte order, so a label from any port is found.

import { preadFully, type DumpSource } from '../source.ts';
import { SECTOR, type NetbsdKind, type Partition } from './types.ts';

export const DISKMAGIC = 0x82564557;
/** Bytes before d_partitions; each entry is 16 bytes. */
export const DISKLABEL_PARTITIONS_AT = 148;
export const DISKLABEL_ENTRY_SIZE = 16;
/** What fits in one label sector after the fixed part: no port has more (MAXPARTITIONS ≤ 22). */
const MAX_FITTING = Math.floor((SECTOR - DISKLABEL_PARTITIONS_AT) / DISKLABEL_ENTRY_SIZE);

export const FS_UNUSED = 0;
export const FS_SWAP = 1;
export const FS_BSDFFS = 7;
export const FS_BSDLFS = 9;
export const FS_RAID = 19;
export const FS_CCD = 20;
export const FS_CGD = 28;

/** fstypenames[] of sys/sys/disklabel.h, by FS_* number. */
const FSTYPE_NAMES = [
  'unused', 'swap', 'Version 6', 'Version 7', 'System V', '4.1BSD', 'Eighth Edition', '4.2BSD', 'MSDOS', '4.4LFS',
  'unknown', 'HPFS', 'ISO9660', 'boot', 'ADOS', 'HFS', 'FILECORE', 'Linux Ext2', 'NTFS', 'RAID', 'ccd', 'jfs',
  'Apple UFS', 'vinum', 'UDF', 'SystemV Boot', 'EFS', 'NILFS', 'cgd', 'MINIXFSv3', 'VMware vmkcore', 'VMware VMFS',
  'VMware Reserved', 'ZFS',
];

export function fstypeName(t: number): string {
  return FSTYPE_NAMES[t] ?? `fstype ${t}`;
}

function fstypeKind(t: number): NetbsdKind {
  switch (t) {
    case FS_SWAP: return 'swap';
    case FS_BSDFFS: return 'ffs';
    case FS_BSDLFS: return 'lfs';
    case FS_RAID: return 'raid';
    case FS_CCD: return 'ccd';
    case FS_CGD: return 'cgd';
    default: return 'other';
  }
}

export interface DiskLabelEntry {
  /** Sectors (of d_secsize). */
  size: number;
  offset: number;
  fstype: number;
}

export interface DiskLabel {
  littleEndian: boolean;
  /** Byte offset of the label on the disk. */
  at: number;
  secsize: number;
  secperunit: number;
  npartitions: number;
  typename: string;
  packname: string;
  entries: DiskLabelEntry[];
}

/** Decode the label at byte `off` of `sector` (sector read at disk byte `base`), or say why not. */
export function decodeDiskLabel(sector: Uint8Array, off: number, base: number): DiskLabel | string | null {
  if (off + DISKLABEL_PARTITIONS_AT > sector.length) return null;
  const dv = new DataView(sector.buffer, sector.byteOffset, sector.length);
  const littleEndian = dv.getUint32(off, true) === DISKMAGIC ? true : dv.getUint32(off, false) === DISKMAGIC ? false : null;
  if (littleEndian === null) return null;
  const at = base + off;
  const u32 = (o: number) => dv.getUint32(off + o, littleEndian);
  const u16 = (o: number) => dv.getUint16(off + o, littleEndian);
  // Both magics or nothing (as readdisklabel): the magic alone also matches d_magic2 of a real label.
  if (off + 136 > sector.length || u32(132) !== DISKMAGIC) return null;
  const npartitions = u16(138);
  const end = off + DISKLABEL_PARTITIONS_AT + DISKLABEL_ENTRY_SIZE * npartitions;
  if (npartitions > MAX_FITTING || end > sector.length) {
    return `disklabel at byte ${at}: d_npartitions (byte ${at + 138}) is ${npartitions}, more than fit in its sector (${MAX_FITTING})`;
  }
  let sum = 0;
  for (let o = off; o < end; o += 2) sum ^= dv.getUint16(o, littleEndian);
  if (sum !== 0) return `disklabel at byte ${at}: checksum (d_checksum, byte ${at + 136}) does not match (XOR is 0x${sum.toString(16)})`;
  const secsize = u32(40);
  const text = (o: number) => String.fromCharCode(...sector.subarray(off + o, off + o + 16)).replace(/\0.*$/s, '');
  const entries: DiskLabelEntry[] = [];
  for (let i = 0; i < npartitions; i++) {
    const p = DISKLABEL_PARTITIONS_AT + DISKLABEL_ENTRY_SIZE * i;
    entries.push({ size: u32(p), offset: u32(p + 4), fstype: sector[off + p + 12] });
  }
  return { littleEndian, at, secsize, secperunit: u32(60), npartitions, typename: text(8), packname: text(24), entries };
}

/**
 * Find a label in sector `lba` (and the one after it: LABELSECTOR is 0 on some ports, 1 on most),
 * searching each 4-byte step as readdisklabel does. Problems of a label that has the magic but is
 * otherwise bad go to warnings.
 */
export async function findDiskLabel(src: DumpSource, firstLba: number, warnings: string[]): Promise<DiskLabel | null> {
  const two = new Uint8Array(2 * SECTOR);
  const n = await preadFully(src, two, firstLba * SECTOR);
  for (const s of [1, 0]) {
    if (n < (s + 1) * SECTOR) continue;
    const sector = two.subarray(s * SECTOR, (s + 1) * SECTOR);
    for (let off = 0; off + DISKLABEL_PARTITIONS_AT <= SECTOR; off += 4) {
      const r = decodeDiskLabel(sector, off, (firstLba + s) * SECTOR);
      if (r === null) continue;
      if (typeof r === 'string') {
        warnings.push(r);
        continue;
      }
      return r;
    }
  }
  return null;
}

/** RAW_PART is 'c' on most ports and 'd' on i386/amd64: both cover the whole disk or NetBSD part. */
function isRawPart(e: DiskLabelEntry, index: number, containerStart: number, containerSize: number, secsize: number): boolean {
  if (index !== 2 && index !== 3) return false;
  if (e.fstype !== FS_UNUSED) return false;
  const start = e.offset * secsize;
  const size = e.size * secsize;
  return (start === 0 || start === containerStart) && size >= containerSize;
}

/** The label's partitions as Partitions (letters a, b, …), empty slots left out. */
export function diskLabelPartitions(label: DiskLabel, container: { start: number; size: number; id?: string }, warnings: string[]): Partition[] {
  let secsize = label.secsize;
  if (![512, 1024, 2048, 4096].includes(secsize)) {
    warnings.push(`disklabel at byte ${label.at}: d_secsize ${secsize} is not a sector size; 512 assumed`);
    secsize = SECTOR;
  }
  const out: Partition[] = [];
  label.entries.forEach((e, i) => {
    if (e.size === 0) return;
    const letter = String.fromCharCode(97 + i);
    const p: Partition = {
      id: letter, scheme: 'disklabel', name: letter, type: String(e.fstype), typeName: fstypeName(e.fstype),
      kind: fstypeKind(e.fstype), start: e.offset * secsize, size: e.size * secsize,
    };
    if (isRawPart(e, i, container.start, container.size, secsize)) p.raw = true;
    if (container.id) p.parent = container.id;
    out.push(p);
  });
  return out;
}
