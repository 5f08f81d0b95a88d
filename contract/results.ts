// What each operation returns. Plain JSON: addresses as "0x…" strings, byte offsets as numbers,
// bytes as lower-case hex. The same objects travel over Electron IPC and serve-mode HTTP.

import type { FaultInfo } from './errors.ts';

/** One MachineName for core, main and the renderer. */
export type { MachineName } from '../core/machines/machine.ts';
import type { MachineName } from '../core/machines/machine.ts';

export interface AppInfo {
  mode: 'electron' | 'serve';
  platform: string;
  /** Whether writes to dumps (kvm_dump_inval) are permitted at all. */
  allowWrite: boolean;
  /** Native file dialogs exist (Electron) or paths are typed (browser). */
  dialogs: boolean;
  /** A dump opened at start-up (command line or bundled sample). */
  initialSessionId: string | null;
  /** Why nothing was opened at start-up, e.g. the sample is missing. */
  startupMessage: string | null;
  version: string;
}

export interface HeaderProbe {
  offset: number;
  machine: MachineName;
  segments: number;
  memoryBytes: number;
}

export interface DeviceEntry {
  /** The path to open: /dev/sdb1, /dev/rdisk2s1, \\.\PhysicalDrive1, /dev/rwd0d. */
  path: string;
  name: string;
  kind: 'disk' | 'partition';
  /** Bytes; 0 when unknown. */
  size: number;
  /** The disk's model, or a partition's type where the platform names it (macOS: "NetBSD swap"). */
  model: string | null;
  removable: boolean | null;
  /** Whether this process may read it; when not, accessHint says how to get access. */
  readable: boolean;
  accessHint: string | null;
  /** Dump headers in the device's first 64 KiB (cheap probe; dumps at the end of swap need a full scan). */
  headers: HeaderProbe[];
  /** The whole disk a partition belongs to. */
  parent: string | null;
  /** A readable whole disk: its partitions and the dumps found in them (absent: not surveyed). */
  survey?: DiskSurveyResult | null;
  /** Why the survey failed. */
  surveyError?: string | null;
}

/** A partition of a whole disk or image, as its partition map lists it. */
export interface DiskPartitionInfo {
  /** What --partition takes: GPT/MBR number or disklabel letter. */
  id: string;
  name: string;
  typeName: string;
  /** NetBSD's reading of the type: swap, ffs, lfs, raid, ccd, cgd, netbsd-mbr, other. */
  netbsdKind: string;
  start: number;
  size: number;
}

/** A dump found where cpu_dumpconf puts it (the end of a swap partition, or block 8). */
export interface FoundDump {
  partition: string | null;
  partitionName: string | null;
  partitionType: string | null;
  partitionStart: number;
  partitionSize: number;
  /** Blocks, relative to the partition, as the crashed kernel had it. */
  dumplo: number;
  /** dumplo × 512: what to open the partition with. */
  dumpOffset: number;
  /** The header's byte offset on the whole disk. */
  absoluteOffset: number;
  machine: MachineName;
  memoryBytes: number;
  crashTime: number | null;
  state: 'not-saved' | 'invalidated' | 'unknown';
  stateNote: string;
  /** "partition 2 'swap': amd64 dump, 63 MiB, crashed 2026-11-02 14:03 UTC, not yet saved" */
  summary: string;
}

export interface DiskSurveyResult {
  path: string;
  size: number;
  /** A multi-file image (E01 segments, split raw parts) or a gzip-compressed one, or null for one file or device. */
  image: { format: 'e01' | 'split-raw' | 'gzip'; files: number } | null;
  schemes: string[];
  partitions: DiskPartitionInfo[];
  dumps: FoundDump[];
  warnings: string[];
  bytesRead: number;
}

export interface DeviceList {
  platform: string;
  devices: DeviceEntry[];
  /** Why the list may be incomplete (no sysfs, tool missing, …). */
  note: string | null;
}

export interface RecentEntry {
  kernelPath: string | null;
  dumpPath: string;
  dumpOffset: number | null;
  machine: MachineName | null;
  /** The partition of dumpPath that was the dump device (dumpOffset relative to it). */
  partition?: string | null;
  openedAt: string;
  /** Which of its files no longer exist (set when the list is read). */
  gone?: ('dump' | 'kernel')[];
}

export interface SegmentInfo {
  start: string;
  size: string;
  /** File offset of the segment's first byte in the dump (kd->dump_off + preceding sizes). */
  fileOffset: number;
  /** Same, but as the libkvm pa2off computes it (equal unless segments overlap). */
  end: string;
}

export interface HeaderInfo {
  sessionId: string;
  kernelPath: string | null;
  /** Where symbols come from: the kernel file, the dump's own ksyms (no kernel file given), or none. */
  namelist: { source: 'kernel-file' | 'dump-ksyms' | 'none'; note: string | null };
  dumpPath: string;
  dumpSize: number;
  compressed: boolean;
  /** The dump carries a format-B header (savecore core file). */
  isCoreFile: boolean;
  hasHeader: boolean;
  /** kvm_dump_mkheader's return when it ran at open, else null. */
  mkheader: number | null;
  dumpOffsetAsked: number | null;
  /** With a partition: which one, and where it starts on the disk (dumpOffsetAsked is relative to it). */
  partition: { id: string; name: string; typeName: string; start: number; size: number } | null;
  /** kd->dump_off: the file offset of the first memory byte. */
  dumpOff: number | null;
  machine: MachineName | null;
  pageSize: number | null;
  longSize: number | null;
  cpuDataSize: number;
  kcore: { mid: number; magic: string; flag: number; hdrSize: number; segHdrSize: number; nseg: number } | null;
  /** Machine-dependent CPU header fields (ptdpaddr, pdppaddr, tcr1, …) as hex. */
  cpuFields: Record<string, string>;
  segments: SegmentInfo[];
  memoryBytes: number;
  /** kvm_geterr() after open and its structured detail. */
  error: string;
  fault: FaultInfo | null;
  /** Bumped each time the workbench reopens the dump (after its own write, or a change on disk): views re-read. */
  generation: number;
  /** What the workbench wrote to this dump, oldest first. */
  writes: DumpWrite[];
  /** Why the dump on disk is no longer what was opened (size or modification time), or null. */
  changedOnDisk: string | null;
}

/** A write the workbench made to a dump. */
export interface DumpWrite {
  /** 'kvm_dump_inval' (the Header view's Invalidate), or 'savecore invalidation' (an export). */
  what: string;
  /** ISO time. */
  at: string;
  offset: number;
  length: number;
}

export interface OpenDumpResult {
  sessionId: string;
  header: HeaderInfo;
}

export interface ScanResult {
  path: string;
  candidates: { offset: number; machine: MachineName; headerSize: number; segments: number; memoryBytes: number; complete: boolean; notes: string[] }[];
}

export interface MkheaderResult {
  result: number;
  error: string;
  fault: FaultInfo | null;
  header: HeaderInfo;
}

export interface WrtheaderResult {
  result: number;
  error: string;
  fault: FaultInfo | null;
  outPath: string;
  bytesWritten: number;
}

export interface InvalResult {
  result: number;
  error: string;
  fault: FaultInfo | null;
  /** Where zeros were written, when the write happened. */
  offset: number | null;
  length: number | null;
}

export interface ReadResult {
  va: string;
  length: number;
  /** Bytes read before the first fault (the whole length when none). */
  result: number;
  /** The bytes known good, from va on (also after a fault: the prefix before the faulting page). */
  data: string;
  /** Where the first unreadable byte is and why, when data is shorter than length. */
  fault: FaultInfo | null;
  /**
   * The reason data stopped short: 'unmapped' (no translation), 'not-in-dump' (the page's PA is in
   * no memory segment), 'eof' (dump ends), 'io' (read error).
   */
  stop: 'unmapped' | 'not-in-dump' | 'eof' | 'io' | null;
  /** Why the read stopped short, '' when it did not. */
  error: string;
}

export interface KvatopResult {
  va: string;
  /** Bytes valid from pa to the end of the page; 0 = no translation. */
  cc: number;
  pa: string | null;
  fileOffset: number | null;
  error: string;
  fault: FaultInfo | null;
}

/** One faulted range of a strict read (offsets relative to the read's address). */
export interface MemoryFaultInfo {
  offset: number;
  length: number;
  /** core/layers FaultKind: outside-segments, not-present, entry-unreadable, bad-entry, out-of-range, eof, io, no-header. */
  kind: string;
  reason: string;
  /** Where the fault starts, in the read's own space. */
  address: string;
  errno: string | null;
  /** For a translation fault: the walk up to the level that failed. */
  walk: WalkLevelInfo[] | null;
}

export interface ReadMemoryResult {
  space: 'virtual' | 'physical' | 'file';
  address: string;
  length: number;
  /** Hex of `length` bytes; bytes inside a fault are 00 and are not memory: never show them as data. */
  data: string;
  faults: MemoryFaultInfo[];
}

/** One level of a page-table walk as read from the dump. */
export interface WalkLevelInfo {
  level: number;
  name: string;
  tableAddress: string;
  index: number;
  entryAddress: string;
  /** The entry, null when it could not be read. */
  entry: string | null;
  flags: { present: boolean; writable: boolean; user: boolean; largePage: boolean; noExecute: boolean } | null;
  /** Bytes of VA one entry at this level maps. */
  span: string | null;
}

export interface TranslateResult {
  va: string;
  ok: boolean;
  pa: string | null;
  pageSize: number | null;
  /** The dump-file offset of pa; null when pa is in no memory segment (see physicalFault). */
  fileOffset: number | null;
  /** Why pa has no bytes in the dump although the walk succeeded (PA in no segment). */
  physicalFault: string | null;
  walk: WalkLevelInfo[];
  /** Where and why the walk failed. */
  fault: { kind: string; level: number | null; entryAddress: string | null; entry: string | null; reason: string; errno: string | null } | null;
}

export interface LocateResult {
  space: 'virtual' | 'physical' | 'file';
  address: string;
  /** The kernel VA (for a PA: the direct map's, confirmed by translation), or null. */
  virtual: string | null;
  physical: string | null;
  file: number | null;
  /** Why a space has no answer ("PA 0xa0000 is in no memory segment"), or null. */
  note: string | null;
}

export interface MemoryRegion {
  start: string;
  /** Exclusive. */
  end: string;
}

export interface MemoryRegionsResult {
  space: 'virtual' | 'physical' | 'file';
  /** One past the highest address of the space (2^64, 2^32, or the file size). */
  limit: string;
  regions: MemoryRegion[];
  /** False when the page-table scan's budget ran out; stoppedAt says where. */
  complete: boolean;
  stoppedAt: string | null;
}

export interface RegionStepResult {
  address: string | null;
  reason: string | null;
}

export interface SymbolsAtResult {
  /** Per address asked: the symbol at or before it (functions and objects), or null. */
  symbols: ({ name: string; value: string; offset: string; size: number } | null)[];
}

export interface FindSummary {
  space: 'virtual' | 'physical';
  pattern: string;
  hits: string[];
  truncated: boolean;
  searchedBytes: string;
  faultedBytes: string;
  /** The VA scan budget ran out: mapped memory past this address was not searched. */
  incompleteAt: string | null;
}

export interface SavedMemory {
  path: string;
  bytes: number;
  sha256: string;
}

export interface Bookmark {
  space: 'virtual' | 'physical' | 'file';
  address: string;
  name: string;
  note: string;
  createdAt: string;
}

export interface BookmarkList {
  /** The dump identity the bookmarks are kept under (a hash of its header bytes and size). */
  dumpKey: string;
  bookmarks: Bookmark[];
}

export interface HeaderField {
  /** Which structure: 'kcore_seg (generic)', 'kcore_seg (CPU)', 'cpu_kcore_hdr', 'phys_ram_seg[3]'. */
  group: string;
  name: string;
  /** Offset from the header start (the dump-file offset of the header is HeaderBytes.offset). */
  offset: number;
  length: number;
  value: string;
}

export interface HeaderBytes {
  /** Dump-file offset of the header's first byte. */
  offset: number;
  /** dumplo in bytes where known (a dump device: the header offset), else null. */
  dumplo: number | null;
  data: string;
  fields: HeaderField[];
  /** The header is longer than shown (a corrupt segment count): only the first bytes are. */
  truncated: boolean;
}

export interface NlistResultInfo {
  /** Names not found, or -1 for an unusable kernel file. */
  result: number;
  entries: { name: string; found: boolean; type: number; value: string }[];
  error: string;
  reason: string | null;
}

export interface SymbolInfo {
  name: string;
  value: string;
  size: number;
  type: 'notype' | 'object' | 'func' | 'section' | 'file' | 'other';
  bind: 'local' | 'global' | 'weak' | 'other';
}

export interface SymbolSearchResult {
  symbols: SymbolInfo[];
  /** Matches before the limit cut the list. */
  total: number;
}

/** One page of the whole symbol table (or of a query's matches), sorted as asked. */
export interface SymbolPage {
  total: number;
  offset: number;
  symbols: (SymbolInfo & { /** For an address query: where the address is in this symbol, as name+0x… */ at?: string })[];
}

export interface JobStarted {
  jobId: string;
}

export type JobState = 'running' | 'done' | 'failed' | 'cancelled';

/** Pushed to the renderer while a job runs (IPC event or serve-mode SSE). */
export interface JobEvent {
  jobId: string;
  kind: 'savecore' | 'scan' | 'open' | 'find';
  state: JobState;
  done: number;
  total: number;
  message: string | null;
  /** Files written, when done. */
  outputs: string[];
  /** A finished scan job's candidates. */
  scan?: ScanResult;
  /** A finished export: what was written, its hashes, the verification and what became of the dump. */
  archive?: ArchiveSummary;
  /** A finished open: the new session. */
  opened?: OpenDumpResult;
  /** A finished find: the hits. */
  find?: FindSummary;
  /** A failed job's error code, when the failure had one (e.g. permission-denied for an open). */
  errorCode?: import('./errors.ts').OpErrorCode;
}

export interface ArchiveSummary {
  /** The N of netbsd.N.core. */
  bounds: number;
  files: { role: 'core' | 'kernel' | 'manifest' | 'report'; path: string; size: number; sha256: string }[];
  /** SHA-256 of the memory bytes read from the dump device (what the core's data must hash to). */
  memorySha256: string;
  /** Where the invalidation wrote, when it did. */
  invalidationWrite?: { offset: number; length: number };
  /** The core (and kernel) were read back and matched before anything was named or invalidated. */
  verified: boolean;
  /** netbsd.N: rebuilt from the dump's ksyms, or a copy of the kernel file. */
  kernelSource: 'ksyms' | 'kernel-file';
  invalidation: 'invalidated' | 'skipped' | 'failed';
}

/** The crash summary core/triage builds (every piece is { value } or { notAvailable: why }). */
export type { TriageReport, Piece } from '../core/triage/report.ts';

export interface TriageResult {
  report: import('../core/triage/report.ts').TriageReport;
  /** The same report as the CLI prints it, for copying into a ticket. */
  text: string;
}

export interface PickedPath {
  path: string | null;
}

/** How a kernel object listing ended: complete, or where and why it stopped. */
export interface ObjectsEnd {
  complete: boolean;
  reason?: string;
  address?: string;
}

/** What was running when it crashed, typed from the debug kernel (issue 12). */
export type KernelObjectsResult =
  | { kind: 'processes'; typeFormat: string; processes: (import('../core/objects/processes.ts').ProcessInfo & { lwps: import('../core/objects/processes.ts').LwpInfo[]; lwpsEnd: ObjectsEnd })[]; end: ObjectsEnd }
  | { kind: 'cpus'; typeFormat: string; cpus: import('../core/objects/cpus.ts').CpuInfo[]; panicCpu: string | null; end: ObjectsEnd }
  | { kind: 'mounts'; typeFormat: string; mounts: import('../core/objects/mounts.ts').MountInfo[]; shape: string; end: ObjectsEnd }
  | { kind: 'modules'; typeFormat: string; modules: import('../core/objects/modules.ts').ModuleInfo[]; end: ObjectsEnd }
  | { kind: 'stack'; typeFormat: string; backtrace: import('../core/objects/stack.ts').Backtrace };

/** What savecore's checks say about an open dump before an export is asked for. */
export interface SavecorePreview {
  /** Each reason savecore would refuse, and whether its -f overrides it. */
  refusals: { check: 'header' | 'symbols' | 'dumpmag' | 'crash-time'; forceOverrides: boolean; message: string }[];
  /** What savecore would warn about without refusing (a kernel version mismatch). */
  warnings: string[];
}
