// What a savecore run is asked to do: savecore(8)'s flags (spec 7.1) plus the workbench's evidence
// options. Shared by the CLI, the app and the tests.

export interface SavecoreOptions {
  /** Where netbsd.N.core, netbsd.N, bounds, minfree and the audit log live. */
  directory: string;
  /** Raw/block device or dump image. */
  device: string;
  /** -N: kernel ELF image (namelist, reference dumpmag/version, copied to netbsd.N). */
  kernel?: string | null;
  /** Debug kernel (netbsd.gdb): the report gains processes, LWPs, CPUs, mounts, modules and the stack. */
  debug?: string | null;
  /** dumplo * 512 (relative to the partition with `partition`); when absent the device is searched for dump headers. */
  dumpOffset?: number;
  /**
   * The dump device is this partition of `device` (a whole disk or image): GPT/MBR number,
   * disklabel letter or GPT name. Offsets are relative to it, as on NetBSD's own dump device.
   */
  partition?: string;
  /** -c: invalidate only. */
  clear?: boolean;
  /** -f: save even if the dump looks invalid or space is short. */
  force?: boolean;
  /** -n: only test whether a dump is present. */
  testOnly?: boolean;
  /** -v */
  verbose?: boolean;
  /** -z */
  compress?: boolean;
  /** -Z: gzip level 0..9 (savecore's default 1). */
  level?: number;
  /** Keep the dump valid after saving (savecore always invalidates). */
  keep?: boolean;
  /** "now" in epoch seconds for the ±60 days check (default: the clock). */
  now?: number;
  /** getpagesize() of the host savecore models: dumpbytes = dumpsize pages × this. */
  pageSize?: number;
  /** Bytes per device read (savecore: 1 MiB). */
  blockSize?: number;
  /** Uncompressed bytes per gzip member with -z. */
  gzipChunkSize?: number;
  /** Compression worker threads (default: available cores). */
  workers?: number;
}

export const DEFAULT_PAGE_SIZE = 4096;
export const DEFAULT_BLOCK_SIZE = 1 << 20;
export const DEFAULT_GZIP_CHUNK = 4 << 20;
export const DEFAULT_LEVEL = 1;

/** The usage line savecore prints (spec 7.1), with this front's extra operand. */
export const SAVECORE_USAGE = 'Usage: savecore [-cfnvz] [-N system] [-Z level] directory DEVICE';

/**
 * -Z as savecore parses it: strtol(optarg, NULL, 10) then a 0..9 range check, so leading blanks,
 * a sign and trailing junk are accepted and text without digits is 0 (spec 7.1).
 */
export function parseCompressionLevel(text: string): number | null {
  const m = /^[\t\n\v\f\r ]*([+-]?)(\d*)/.exec(text)!;
  const magnitude = BigInt(m[2] === '' ? '0' : m[2]); // BigInt: any number of leading zeros
  const value = m[1] === '-' ? -magnitude : magnitude;
  return value >= 0n && value <= 9n ? Number(value) : null;
}
