// The vocabulary of partition maps: what a disk is divided into, in NetBSD's terms, with the
// problems a hostile or damaged map showed (never silently dropped).

export type PartitionScheme = 'mbr' | 'gpt' | 'disklabel';

/** NetBSD's reading of a partition's type (disklabel fstype, GPT type GUID or MBR id). */
export type NetbsdKind = 'swap' | 'ffs' | 'lfs' | 'raid' | 'ccd' | 'cgd' | 'netbsd-mbr' | 'other';

export interface Partition {
  /** How the user names it: GPT/MBR entry number ("2", logicals from "5") or disklabel letter ("b"). */
  id: string;
  scheme: PartitionScheme;
  /** GPT partition name, else the disklabel letter or the MBR number. */
  name: string;
  /** The raw type: GPT type GUID, MBR id "0xa9", disklabel fstype number. */
  type: string;
  /** Human name of the type ("NetBSD swap", "4.2BSD", "Linux"). */
  typeName: string;
  kind: NetbsdKind;
  /** Absolute byte offset on the disk and length in bytes. */
  start: number;
  size: number;
  /** The whole-disk raw partition of a disklabel (RAW_PART): not searched for dumps on its own. */
  raw?: boolean;
  /** The id of the partition it lies inside (disklabel partitions inside an MBR 0xA9 partition). */
  parent?: string;
  /** Set when the partition extends past the end of the disk. */
  truncated?: boolean;
}

export interface PartitionMap {
  /** The schemes found, outermost first (e.g. ['mbr', 'disklabel']); empty when none. */
  schemes: PartitionScheme[];
  diskSize: number;
  partitions: Partition[];
  /** Damage and oddities: a CRC mismatch, the backup GPT used, a loop in the extended chain… */
  warnings: string[];
}

export const SECTOR = 512;

/** A bounded parser gives up past these: real maps are far smaller. */
export const LIMITS = {
  /** Logical partitions followed in an extended chain. */
  maxLogical: 128,
  /** GPT entries read (the spec's minimum array is 128; real tools never write more than a few hundred). */
  maxGptEntries: 4096,
  /** Bytes of GPT entry array read. */
  maxGptArrayBytes: 1 << 20,
} as const;
