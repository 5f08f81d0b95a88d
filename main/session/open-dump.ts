// Opening a kernel and a dump the way kvm_openfiles does, over real files and devices: the one
// path the CLI, the savecore job and the app share. Gzip-compressed cores are indexed once (the
// index is cached per user, keyed by the file's SHA-256) and then read with random access.

import { strerror, errnoOf } from '../../core/errno.ts';
import { Kvm } from '../../core/kvm.ts';
import type { MachineName } from '../../core/machines/machine.ts';
import { symbolsFromDump } from '../../core/ksyms/discover.ts';
import { dumpView } from '../../core/kvm/view.ts';
import { MemorySource, type DumpSource } from '../../core/source.ts';
import { CachedSource } from '../../core/sources/cached.ts';
import { isGzip } from '../../core/sources/gzip-format.ts';
import { GzipSource } from '../../core/sources/gzip-source.ts';
import { openSource } from '../sources/node-source.ts';
import { openDiskSource } from './disk-source.ts';
import { ImageSetError } from '../sources/image-set.ts';
import { loadOrBuildGzipIndex } from './gzip-index-cache.ts';
import { openPartition, PartitionError } from '../disks/partition-source.ts';
import type { Partition } from '../../core/partitions/index.ts';

export interface OpenDumpOptions {
  kernelPath?: string | null;
  dumpPath: string;
  /** Where the CPU segment header is (dumplo * 512); not needed for savecore core files. */
  dumpOffset?: number;
  machine?: MachineName;
  /** The dump device is this partition of the disk or image (`--partition 2`, `--partition b`); dumpOffset is relative to it. */
  partition?: string;
  /** Open the dump for writing (only kvm_dump_inval writes). */
  writable?: boolean;
  onIndexProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /**
   * Without a kernel file, look for the crashed kernel's ksyms table in the dump and use it as the
   * namelist (searching at most limitBytes of physical memory). Off for the libkvm commands, whose
   * kvm_nlist has no such fallback.
   */
  symbolsFromDump?: { limitBytes?: number; onProgress?: (done: number, total: number) => void };
  /** Fault injection for tests: wraps the device's source (EIO, short reads, early EOF). */
  wrapDevice?: (src: DumpSource) => DumpSource;
}

/** Where nlist's symbols come from. */
export type NamelistOrigin =
  | { source: 'kernel-file'; note: null }
  | { source: 'dump-ksyms'; note: string }
  | { source: 'none'; note: string };

export interface OpenedDump {
  kd: Kvm;
  /** kvm_dump_mkheader's result when it was run (a dump device), null for a core file or no offset. */
  mkheader: number | null;
  /** The dump as read (decompressed for .gz). */
  dump: DumpSource;
  /** The dump device: the file or device itself, or the partition's window onto it with --partition. */
  rawDump: DumpSource;
  /** The file or device opened (the whole disk with --partition; else the same as rawDump). */
  device: DumpSource;
  /** The partition the dump device is, with its absolute start on the disk. */
  partition: Partition | null;
  compressed: boolean;
  kernel: DumpSource | null;
  namelist: NamelistOrigin;
  close(): Promise<void>;
}

/** kvm_openfiles could not open a file: "<path>: <strerror>". */
export class OpenError extends Error {
  override name = 'OpenError';
}

export async function openDump(opts: OpenDumpOptions): Promise<OpenedDump> {
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  };
  try {
    const kernel = opts.kernelPath ? await openOrExplain(opts.kernelPath, false) : null;
    if (kernel) closers.push(() => kernel.close());
    // With --partition the path is a disk or image: a gzip-compressed one is read as the disk it holds.
    const opened = await openOrExplain(opts.dumpPath, opts.writable ?? false, opts.partition !== undefined ? opts : null);
    closers.push(() => opened.close());
    const disk = opts.wrapDevice ? opts.wrapDevice(opened) : opened;
    let rawDump: DumpSource = disk;
    let partition: Partition | null = null;
    if (opts.partition !== undefined) {
      try {
        ({ source: rawDump, partition } = await openPartition(disk, opts.partition));
      } catch (e) {
        if (e instanceof PartitionError) throw new OpenError(e.message);
        throw e;
      }
    }
    const compressed = await isGzip(rawDump);
    if (compressed && opts.writable) throw new OpenError(`${opts.dumpPath}: a compressed core cannot be written to; invalidate the dump device instead`);
    const dump: DumpSource = compressed
      ? new GzipSource(rawDump, await loadOrBuildGzipIndex(rawDump, { onProgress: opts.onIndexProgress, signal: opts.signal }))
      : new CachedSource(rawDump);
    const kd = await Kvm.open({ dump, kernel: kernel ? new CachedSource(kernel) : null, machine: opts.machine });
    let mkheader: number | null = null;
    if (!kd.hasHeader && opts.dumpOffset !== undefined) mkheader = await kd.mkheader(opts.dumpOffset);
    const namelist = await chooseNamelist(kd, kernel, opts, compressed);
    return { kd, mkheader, dump, rawDump, device: disk, partition, compressed, kernel, namelist, close: closeAll };
  } catch (e) {
    await closeAll();
    throw e;
  }
}

/** A compressed core inflates at a few hundred MB/s: searching it is bounded tighter. */
const COMPRESSED_SEARCH_LIMIT = 256 << 20;

async function chooseNamelist(kd: Kvm, kernel: DumpSource | null, opts: OpenDumpOptions, compressed: boolean): Promise<NamelistOrigin> {
  if (kernel) return { source: 'kernel-file', note: null };
  if (!opts.symbolsFromDump) return { source: 'none', note: 'no kernel file given' };
  if (!kd.hasHeader) return { source: 'none', note: 'no kernel file given, and no dump header to find the dump\'s own symbols through' };
  const asked = opts.symbolsFromDump.limitBytes;
  const limitBytes = compressed ? Math.min(asked ?? Infinity, COMPRESSED_SEARCH_LIMIT) : asked;
  return namelistFromDump(kd, { signal: opts.signal, limitBytes, onProgress: opts.symbolsFromDump.onProgress });
}

/**
 * Search the dump (mkheader done) for the crashed kernel's ksyms and, when found, make the rebuilt
 * image kd's namelist. Shared by opening a dump and by savecore without -N.
 */
export async function namelistFromDump(
  kd: Kvm, opts: { signal?: AbortSignal; limitBytes?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<NamelistOrigin> {
  const r = await symbolsFromDump(dumpView(kd), {
    signal: opts.signal,
    ...(opts.limitBytes !== undefined ? { limitBytes: opts.limitBytes } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
  if (!r.ok) return { source: 'none', note: `no kernel file given, and ${r.reason}` };
  kd.useNamelist(new MemorySource(r.image));
  return { source: 'dump-ksyms', note: `no kernel file given: symbols from the crashed kernel's ksyms in the dump (${r.tables} table${r.tables === 1 ? '' : 's'})` };
}

async function openOrExplain(path: string, writable: boolean, disk: OpenDumpOptions | null = null) {
  try {
    return disk ? await openDiskSource(path, { writable, signal: disk.signal, onIndexProgress: disk.onIndexProgress }) : await openSource(path, { writable });
  } catch (e) {
    const errno = errnoOf(e);
    if (errno === 'EACCES' || errno === 'EPERM' || e instanceof ImageSetError) throw new OpenError((e as Error).message);
    throw new OpenError(`${path}: ${strerror(errno)}`);
  }
}
