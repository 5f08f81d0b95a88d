// The GUID partition table (UEFI spec 2.x ch. 5; NetBSD sys/sys/disklabel_gpt.h): header at LBA 1
// with a CRC32 of itself and of the entry array, backup header at the last LBA. The backup is used
// when the primary is damaged, and the map says so. Written here rather than with the npm `gpt`
// package: it needs Node Buffers (core is Buffer-free) and trusts the header's entry count and size,
// which a hostile header sets to gigabytes.

import { preadFully, type DumpSource } from '../source.ts';
import { crc32 } from './crc32.ts';
import { LIMITS, SECTOR, type NetbsdKind, type Partition } from './types.ts';

const SIGNATURE = 'EFI PART';
const HEADER_MIN = 92;

/** NetBSD's GPT partition types (sys/sys/disklabel_gpt.h) and a few neighbours a NetBSD disk may carry. */
export const GPT_TYPES: Record<string, { name: string; kind: NetbsdKind }> = {
  '49f48d32-b10e-11dc-b99b-0019d1879648': { name: 'NetBSD swap', kind: 'swap' },
  '49f48d5a-b10e-11dc-b99b-0019d1879648': { name: 'NetBSD FFSv1/FFSv2', kind: 'ffs' },
  '49f48d82-b10e-11dc-b99b-0019d1879648': { name: 'NetBSD LFS', kind: 'lfs' },
  '49f48daa-b10e-11dc-b99b-0019d1879648': { name: 'NetBSD RAIDFrame component', kind: 'raid' },
  '2db519c4-b10f-11dc-b99b-0019d1879648': { name: 'NetBSD ccd component', kind: 'ccd' },
  '2db519ec-b10f-11dc-b99b-0019d1879648': { name: 'NetBSD Cryptographic Disk', kind: 'cgd' },
  'c12a7328-f81f-11d2-ba4b-00a0c93ec93b': { name: 'EFI System', kind: 'other' },
  '21686148-6449-6e6f-744e-656564454649': { name: 'BIOS Boot', kind: 'other' },
  '0fc63daf-8483-4772-8e79-3d69d8477de4': { name: 'Linux data', kind: 'other' },
  '0657fd6d-a4ab-43c4-84e5-0933c84b4f4f': { name: 'Linux swap', kind: 'other' },
  'ebd0a0a2-b9e5-4433-87c0-68b6b72699c7': { name: 'Windows basic data', kind: 'other' },
  '516e7cb5-6ecf-11d6-8ff8-00022d09712b': { name: 'FreeBSD swap', kind: 'other' },
};

/** A GUID as text: the first three fields are stored little-endian (the "mixed-endian" GUID layout). */
export function guidText(b: Uint8Array, at = 0): string {
  const h = (i: number) => b[at + i].toString(16).padStart(2, '0');
  const le = (idx: number[]) => idx.map(h).join('');
  return `${le([3, 2, 1, 0])}-${le([5, 4])}-${le([7, 6])}-${le([8, 9])}-${le([10, 11, 12, 13, 14, 15])}`;
}

/** The 16 bytes of a GUID given as text (for fixtures and tests). */
export function guidBytes(text: string): Uint8Array {
  const hex = text.replace(/-/g, '');
  const raw = Array.from({ length: 16 }, (_, i) => parseInt(hex.slice(2 * i, 2 * i + 2), 16));
  return Uint8Array.from([raw[3], raw[2], raw[1], raw[0], raw[5], raw[4], raw[7], raw[6], ...raw.slice(8)]);
}

interface GptHeader {
  myLba: number;
  alternateLba: number;
  entriesLba: number;
  count: number;
  entrySize: number;
  entriesCrc: number;
}

/** Decode and check a header sector; a string says what is wrong with it. */
function decodeHeader(sector: Uint8Array, lba: number): GptHeader | string {
  const sig = String.fromCharCode(...sector.subarray(0, 8));
  if (sig !== SIGNATURE) return `no "EFI PART" signature at LBA ${lba}`;
  const dv = new DataView(sector.buffer, sector.byteOffset, sector.length);
  const size = dv.getUint32(12, true);
  if (size < HEADER_MIN || size > sector.length) return `header size ${size} at LBA ${lba} (byte ${lba * SECTOR + 12}) is not ${HEADER_MIN}..${sector.length}`;
  const stored = dv.getUint32(16, true);
  const copy = sector.slice(0, size);
  copy.fill(0, 16, 20);
  const actual = crc32(copy);
  if (actual !== stored) return `header CRC32 at LBA ${lba} is 0x${hex32(stored)}, computed 0x${hex32(actual)}`;
  const u64 = (o: number) => Number(dv.getBigUint64(o, true));
  const count = dv.getUint32(80, true);
  const entrySize = dv.getUint32(84, true);
  if (entrySize < 128 || entrySize % 8 !== 0 || entrySize > 4096) return `entry size ${entrySize} at LBA ${lba} is not a multiple of 8 in 128..4096`;
  if (u64(24) !== lba) return `header at LBA ${lba} says it is at LBA ${u64(24)}`;
  return { myLba: lba, alternateLba: u64(32), entriesLba: u64(72), count, entrySize, entriesCrc: dv.getUint32(88, true) };
}

function hex32(n: number): string {
  return n.toString(16).padStart(8, '0');
}

async function readEntries(src: DumpSource, h: GptHeader, diskSize: number): Promise<Uint8Array | string> {
  const bytes = h.count * h.entrySize;
  if (h.count > LIMITS.maxGptEntries || bytes > LIMITS.maxGptArrayBytes) {
    return `entry array of ${h.count} × ${h.entrySize} bytes is larger than any real GPT (limit ${LIMITS.maxGptEntries} entries, ${LIMITS.maxGptArrayBytes} bytes)`;
  }
  const at = h.entriesLba * SECTOR;
  if (diskSize > 0 && at + bytes > diskSize) return `entry array at LBA ${h.entriesLba} lies past the end of the disk`;
  const buf = new Uint8Array(bytes);
  if ((await preadFully(src, buf, at)) !== bytes) return `entry array at LBA ${h.entriesLba} could not be read in full`;
  const actual = crc32(buf);
  if (actual !== h.entriesCrc) return `entry array CRC32 is 0x${hex32(h.entriesCrc)}, computed 0x${hex32(actual)}`;
  return buf;
}

async function readHeaderAt(src: DumpSource, lba: number): Promise<GptHeader | string> {
  const sector = new Uint8Array(SECTOR);
  if ((await preadFully(src, sector, lba * SECTOR)) !== SECTOR) return `LBA ${lba} lies past the end of the disk`;
  return decodeHeader(sector, lba);
}

/** Does LBA 1 start with the GPT signature (valid or not)? */
export async function hasGptSignature(src: DumpSource): Promise<boolean> {
  const b = new Uint8Array(8);
  return (await preadFully(src, b, SECTOR)) === 8 && String.fromCharCode(...b) === SIGNATURE;
}

/**
 * The partitions of a GPT, primary first, else the backup at the last LBA (or where the primary
 * says its alternate is). Null when neither header is usable; every problem goes to warnings.
 */
export async function readGpt(src: DumpSource, diskSize: number, warnings: string[]): Promise<Partition[] | null> {
  const primary = await readHeaderAt(src, 1);
  let entries: Uint8Array | string = typeof primary === 'string' ? primary : await readEntries(src, primary, diskSize);
  let used = primary;
  if (typeof entries === 'string') {
    warnings.push(`GPT: primary damaged: ${entries}`);
    const lastLba = diskSize > 0 ? Math.floor(diskSize / SECTOR) - 1 : -1;
    const places = [lastLba];
    if (typeof primary !== 'string' && primary.alternateLba !== lastLba) places.unshift(primary.alternateLba);
    for (const lba of places.filter((l) => l > 1)) {
      const backup = await readHeaderAt(src, lba);
      const e = typeof backup === 'string' ? backup : await readEntries(src, backup, diskSize);
      if (typeof e === 'string') {
        warnings.push(`GPT: backup at LBA ${lba} unusable too: ${e}`);
        continue;
      }
      warnings.push(`GPT: using the backup header at LBA ${lba}`);
      entries = e;
      used = backup;
      break;
    }
    if (typeof entries === 'string') return null;
  }
  const h = used as GptHeader;
  const out: Partition[] = [];
  for (let i = 0; i < h.count; i++) {
    const at = i * h.entrySize;
    const e = entries.subarray(at, at + h.entrySize);
    if (e.subarray(0, 16).every((b) => b === 0)) continue;
    const dv = new DataView(e.buffer, e.byteOffset, e.length);
    const first = dv.getBigUint64(32, true);
    const last = dv.getBigUint64(40, true);
    const type = guidText(e, 0);
    const known = GPT_TYPES[type];
    const id = String(i + 1);
    if (last < first) {
      warnings.push(`GPT: entry ${id} ends (LBA ${last}) before it starts (LBA ${first}); skipped`);
      continue;
    }
    const startBytes = Number(first) * SECTOR;
    const sizeBytes = (Number(last - first) + 1) * SECTOR;
    if (!Number.isSafeInteger(startBytes + sizeBytes)) {
      warnings.push(`GPT: entry ${id} lies beyond any disk (LBA ${first}..${last}); skipped`);
      continue;
    }
    out.push({
      id, scheme: 'gpt', name: utf16Name(e.subarray(56, 128)) || id, type,
      typeName: known?.name ?? `GUID ${type}`, kind: known?.kind ?? 'other', start: startBytes, size: sizeBytes,
    });
  }
  return out;
}

function utf16Name(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i + 1 < b.length; i += 2) {
    const c = b[i] | (b[i + 1] << 8);
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s;
}
