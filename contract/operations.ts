// The contract between the renderer and main, defined once: every operation with the zod schema
// its arguments must pass and the type it resolves to. main validates with these schemas; preload,
// the browser client and the tests derive their function lists from the same table.

import { z } from 'zod';
import type { OpName } from './op-names.ts';
import type * as R from './results.ts';
import {
  byteCount, fileFilter, filePath, hexAddress, jobId, machineName, MAX_NLIST_NAMES, MAX_READ_LENGTH,
  MAX_SYMBOL_RESULTS, memorySpace, noArgs, sessionId,
} from './values.ts';

export interface OpSpec<A extends z.ZodType, Result> {
  args: A;
  /** Writes to a dump or device: refused unless the app runs with writes allowed. */
  writes: boolean;
  /** Type-level only: what a successful call resolves to. */
  readonly result?: Result;
}

/** op<Result>()(schema): pins the result type while letting TypeScript infer the schema's. */
const op = <Result>() => <A extends z.ZodType>(args: A, opts: { writes?: boolean } = {}): OpSpec<A, Result> => ({
  args,
  writes: opts.writes ?? false,
});

const session = z.strictObject({ sessionId });

/** A partition of a whole disk or image: its number, disklabel letter or GPT name (36 UTF-16 units at most). */
const partitionId = z.string().min(1).max(72);

const openArgs = z.strictObject({
  kernelPath: filePath.optional(),
  dumpPath: filePath,
  dumpOffset: byteCount.optional(),
  /** dumpPath is a whole disk or image and the dump device this partition of it; dumpOffset is relative to it. */
  partition: partitionId.optional(),
  machine: machineName.optional(),
});

export const operations = {
  appInfo: op<R.AppInfo>()(noArgs),
  listDevices: op<R.DeviceList>()(noArgs),
  listRecent: op<{ recent: R.RecentEntry[] }>()(noArgs),
  /** Remove one entry from the Recent list (the files themselves are never touched). */
  forgetRecent: op<{ recent: R.RecentEntry[] }>()(z.strictObject({
    dumpPath: filePath,
    kernelPath: filePath.nullable(),
    dumpOffset: byteCount.nullable(),
  })),
  pickFile: op<R.PickedPath>()(z.strictObject({
    title: z.string().max(200).optional(),
    filters: z.array(fileFilter).max(10).optional(),
  })),
  pickSaveFile: op<R.PickedPath>()(z.strictObject({
    title: z.string().max(200).optional(),
    defaultPath: filePath.optional(),
    directory: z.boolean().optional(),
  })),
  openDump: op<R.OpenDumpResult>()(openArgs),
  /** openDump as a job: progress while a compressed core is indexed or symbols are searched, and cancel. */
  startOpen: op<R.JobStarted>()(openArgs),
  closeDump: op<{ closed: boolean }>()(session),
  scan: op<R.ScanResult>()(z.strictObject({ path: filePath })),
  /** A whole disk or image: its partition map and the dumps cpu_dumpconf left in its NetBSD swap partitions. */
  surveyDisk: op<R.DiskSurveyResult>()(z.strictObject({ path: filePath })),
  header: op<R.HeaderInfo>()(session),
  mkheader: op<R.MkheaderResult>()(z.strictObject({ sessionId, dumpOffset: byteCount })),
  wrtheader: op<R.WrtheaderResult>()(z.strictObject({
    sessionId,
    // kvm_dump_wrtheader's int dumpsize; negative values are legal C and behave as NetBSD's do.
    dumpsize: z.number().int().min(-(2 ** 31)).max(2 ** 32 - 1),
    outPath: filePath,
  })),
  inval: op<R.InvalResult>()(z.strictObject({ sessionId, confirm: z.literal(true) }), { writes: true }),
  read: op<R.ReadResult>()(z.strictObject({
    sessionId,
    va: hexAddress,
    length: z.number().int().min(1).max(MAX_READ_LENGTH),
  })),
  kvatop: op<R.KvatopResult>()(z.strictObject({ sessionId, va: hexAddress })),
  nlist: op<R.NlistResultInfo>()(z.strictObject({
    sessionId,
    names: z.array(z.string().min(1).max(256)).min(1).max(MAX_NLIST_NAMES),
  })),
  symbolSearch: op<R.SymbolSearchResult>()(z.strictObject({
    sessionId,
    query: z.string().max(256),
    limit: z.number().int().min(1).max(MAX_SYMBOL_RESULTS).optional(),
  })),
  /** The symbol table a page at a time (the Symbols view lists all of it, only visible rows fetched). */
  symbolPage: op<R.SymbolPage>()(z.strictObject({
    sessionId,
    query: z.string().max(256),
    sort: z.enum(['name', 'address', 'size']),
    descending: z.boolean(),
    offset: z.number().int().min(0).max(2 ** 31),
    limit: z.number().int().min(1).max(500),
  })),
  startSavecore: op<R.JobStarted>()(z.strictObject({
    sessionId,
    outDir: filePath,
    /** savecore -z: gzip the core. */
    compress: z.boolean(),
    /** Clear the dump afterwards as savecore(8) does (a write: needs the app's write permission). */
    invalidate: z.boolean().optional(),
    /** savecore -f: save although the crash time is out of range or dumpmag does not match. */
    force: z.boolean().optional(),
  })),
  /** scan as a job: progress over the whole device, and cancellable (a disk can be large). */
  startScan: op<R.JobStarted>()(z.strictObject({ path: filePath })),
  cancelJob: op<{ cancelled: boolean }>()(z.strictObject({ jobId })),
  /** The latest event of a job: how a client catches up on events it missed. */
  jobStatus: op<R.JobEvent>()(z.strictObject({ jobId })),
  /** savecore's checks (dumpmag, crash time, kernel version) on the open dump, before any export. */
  savecorePreview: op<R.SavecorePreview>()(session),
  triage: op<R.TriageResult>()(z.strictObject({
    sessionId,
    /** Message-buffer lines to include (default 20). */
    lines: z.number().int().min(1).max(10_000).optional(),
  })),
  /** Processes (with LWPs), CPUs, mounts, modules or the panicking stack, typed from a debug kernel. */
  kernelObjects: op<R.KernelObjectsResult>()(z.strictObject({
    sessionId,
    kind: z.enum(['processes', 'cpus', 'mounts', 'modules', 'stack']),
    /** netbsd.gdb; without it the kernel file's own DWARF, if any. */
    debugPath: filePath.optional(),
  })),
  /** Strict read in one address space: bytes plus the faulted ranges with their reasons (never non-memory bytes). */
  readMemory: op<R.ReadMemoryResult>()(z.strictObject({
    sessionId,
    space: memorySpace,
    address: hexAddress,
    length: z.number().int().min(1).max(MAX_READ_LENGTH),
  })),
  /** A kernel VA's translation with every level of the page-table walk, or the level it failed at. */
  translate: op<R.TranslateResult>()(z.strictObject({ sessionId, va: hexAddress })),
  /** One address in all three spaces: its VA (the direct map's, for a PA), PA and dump-file offset. */
  locate: op<R.LocateResult>()(z.strictObject({ sessionId, space: memorySpace, address: hexAddress })),
  /** Where memory is in a space: mapped VA regions (from the page tables), segments, or the file. */
  memoryRegions: op<R.MemoryRegionsResult>()(z.strictObject({ sessionId, space: memorySpace })),
  /** The start of the next or previous mapped region from an address, skipping holes. */
  stepRegion: op<R.RegionStepResult>()(z.strictObject({
    sessionId, space: memorySpace, from: hexAddress, direction: z.enum(['next', 'previous']),
  })),
  /** The symbol holding or preceding each kernel VA (name + offset), for the status line, gutter and inspector. */
  symbolsAt: op<R.SymbolsAtResult>()(z.strictObject({ sessionId, addresses: z.array(hexAddress).min(1).max(512) })),
  /** Find a pattern over mapped VA pages or physical memory, as a job with progress and cancel. */
  startFind: op<R.JobStarted>()(z.strictObject({
    sessionId,
    space: z.enum(['virtual', 'physical']),
    kind: z.enum(['hex', 'ascii', 'utf16le', 'pointer']),
    text: z.string().min(1).max(8192),
    maxHits: z.number().int().min(1).max(10_000).optional(),
  })),
  /** Save bytes of a space to a new file (never over an existing one); refused when any byte is unreadable. */
  saveMemory: op<R.SavedMemory>()(z.strictObject({
    sessionId, space: memorySpace, address: hexAddress, length: z.number().int().min(1).max(1 << 30), path: filePath,
  })),
  /** The bookmarks of this dump (kept per dump identity in the user's application data). */
  listBookmarks: op<R.BookmarkList>()(session),
  saveBookmarks: op<R.BookmarkList>()(z.strictObject({
    sessionId,
    bookmarks: z.array(z.strictObject({
      space: memorySpace, address: hexAddress, name: z.string().min(1).max(200), note: z.string().max(4000), createdAt: z.string().max(40),
    })).max(5000),
  })),
  /** Write this dump's bookmarks as JSON to a new file. */
  exportBookmarks: op<{ path: string; count: number }>()(z.strictObject({ sessionId, path: filePath })),
  /** The header region's bytes with each decoded field's place in them. */
  headerBytes: op<R.HeaderBytes>()(session),
} satisfies Record<OpName, OpSpec<z.ZodType, unknown>>;

export type Operations = typeof operations;
/** What a caller passes (before zod defaults/transforms). */
export type OpArgs<K extends OpName> = z.input<Operations[K]['args']>;
/** What a handler receives (after validation). */
export type OpParsedArgs<K extends OpName> = z.output<Operations[K]['args']>;
export type OpResult<K extends OpName> = NonNullable<Operations[K]['result']>;

export type { OpName } from './op-names.ts';
