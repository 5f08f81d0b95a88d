// The strict memory layers' shared vocabulary (issue 8): what a read in any of the three address
// spaces answers, and what a translation answers. Everything shown to a person or used for a
// decision reads through these: a hole, an address outside every segment or an I/O error is a
// fault with its reason, never stale, foreign or made-up bytes. libkvm's quirks live only in Kvm.

import type { Errno } from '../errno.ts';

/** Why bytes could not be had. */
export type FaultKind =
  /** PA in no memory segment (a hole in physical memory, or past the last segment). */
  | 'outside-segments'
  /** VA with no translation: an entry of the walk is not present (or not valid). */
  | 'not-present'
  /** An entry of the walk could not be read (its table is outside memory, or I/O failed). */
  | 'entry-unreadable'
  /** An entry the architecture defines as invalid although present (reserved bits, bad descriptor type). */
  | 'bad-entry'
  /** VA outside the range the page tables can describe (non-canonical, wrong half on aarch64). */
  | 'out-of-range'
  /** The source ended before the bytes the segments promise. */
  | 'eof'
  /** The source failed: errno says how. */
  | 'io'
  /** No dump header is set up yet, so there is no memory to read. */
  | 'no-header';

/** One contiguous faulted range of a read, relative to the address the read started at. */
export interface ReadFault {
  /** Offset into the requested range where the fault starts. */
  offset: number;
  length: number;
  kind: FaultKind;
  /** A sentence for humans: "PA 0xa0000 is in no memory segment", "level 2 entry not present". */
  reason: string;
  /** The address (in the read's own space) where the fault starts. */
  address: bigint;
  errno?: Errno;
  /** For a translation fault: the walk up to and including the level that failed. */
  walk?: readonly WalkLevel[];
}

/**
 * The answer of a strict read: `data` has the requested length; bytes inside a fault range are
 * zero and must never be shown or used as memory. Faults are sorted, disjoint and merged.
 */
export interface StrictRead {
  data: Uint8Array;
  faults: readonly ReadFault[];
}

/** A physical range backed by the dump file. */
export interface PhysicalRun {
  kind: 'run';
  pa: bigint;
  /** Absolute offset in the dump source (dump_off included). */
  fileOffset: number;
  length: number;
}

/** A physical range in no segment. */
export interface PhysicalHole {
  kind: 'hole';
  pa: bigint;
  length: number;
}

export type PhysicalPiece = PhysicalRun | PhysicalHole;

/** One level of a page-table walk, as read from the dump. */
export interface WalkLevel {
  /**
   * The architecture's level number (amd64: 4..1, i386: 2..1, aarch64: 0..3). i386-PAE lists 2..1:
   * libkvm (and so this walk) never reads the PDPT, indexing the four contiguous directory pages
   * as one 2048-entry level-2 table.
   */
  level: number;
  /** Name as the architecture's documentation says it: 'PML4E', 'PDPTE', 'PDE', 'PTE', 'L0'…'L3'. */
  name: string;
  /** Physical address of the table. */
  tableAddress: bigint;
  index: number;
  /** Physical address of the entry (tableAddress + index * entrySize). */
  entryAddress: bigint;
  /** The entry's value; undefined when it could not be read. */
  entry?: bigint;
  /** Decoded flags where the entry was read: present, writable, user, large page, NX. */
  flags?: EntryFlags;
  /** Bytes of VA one entry at this level maps (the page size when the entry is a leaf). */
  span?: bigint;
}

export interface EntryFlags {
  present: boolean;
  writable: boolean;
  user: boolean;
  /** This entry maps a page itself (2 MiB/1 GiB on amd64, 4 MiB/2 MiB on i386, a block on aarch64). */
  largePage: boolean;
  noExecute: boolean;
}

/** A successful translation. */
export interface Translated {
  ok: true;
  va: bigint;
  pa: bigint;
  /** Size of the page or block that maps va. */
  pageSize: number;
  walk: readonly WalkLevel[];
}

/** A failed translation: where in the walk it stopped and why. */
export interface TranslationFault {
  ok: false;
  va: bigint;
  kind: FaultKind;
  /** The level that failed (the architecture's number), or null when the VA was refused before any walk. */
  level: number | null;
  entryAddress: bigint | null;
  entry: bigint | null;
  reason: string;
  errno?: Errno;
  walk: readonly WalkLevel[];
}

export type Translation = Translated | TranslationFault;

/** The physical address space of a dump: its memory segments over the source. */
export interface PhysicalSpace {
  /** Runs and holes covering [pa, pa + length), in order. */
  mapping(pa: bigint, length: number): PhysicalPiece[];
  /** The dump-file offset holding pa, or null when pa is in no segment. */
  fileOffset(pa: bigint): number | null;
  read(pa: bigint, length: number): Promise<StrictRead>;
}

/** The kernel virtual address space of a dump: translation over the physical space. */
export interface VirtualSpace {
  readonly pointerSize: 4 | 8;
  readonly littleEndian: boolean;
  translate(va: bigint): Promise<Translation>;
  read(va: bigint, length: number): Promise<StrictRead>;
  /** The VAs a failed translation stands for (they all fail the same way), to skip holes whole. */
  faultExtent(tr: TranslationFault): { start: bigint; end: bigint };
}
