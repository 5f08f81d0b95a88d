// netbsd.N.manifest.json: everything needed later to show what was saved, from where, and that it
// is intact — sizes, offsets, device identity, machine, versions, panic, times, hashes, what the
// dump lacked, the options used, and what happened to the dump afterwards.

import type { Kvm } from '../../../core/kvm.ts';
import { dumpView } from '../../../core/kvm/view.ts';
import { readBootTime as readBootTimeFact } from '../../../core/crash/facts.ts';
import type { ScanCandidate } from '../../../core/scan.ts';
import type { Partition } from '../../../core/partitions/index.ts';
import { toolVersion } from './audit.ts';
import type { InvalidationResult } from './invalidate.ts';
import type { SaveResult } from './save.ts';

export const MANIFEST_FORMAT = 'kvmdump-savecore-manifest/1';

export interface DeviceIdentity {
  path: string;
  realPath: string | null;
  dev: number | null;
  ino: number | null;
  rdev: number | null;
  kind: string;
  size: number;
}

export interface ManifestInput {
  bounds: number;
  options: Record<string, unknown>;
  device: DeviceIdentity;
  /** The partition of the device that is the dump device (offsets are relative to it), or null. */
  partition: Partition | null;
  kd: Kvm;
  dumpOffset: number;
  /** How the dump offset was found. */
  dumpOffsetSource: 'option' | 'scan';
  candidates: ScanCandidate[] | null;
  headerSize: number;
  dumpsizePages: number;
  pageSize: number;
  dumpbytes: number;
  dumpmag: number | null;
  referenceDumpmag: number | null;
  /** The -N kernel file, or null when the symbols came from the dump's own ksyms. */
  kernelPath: string | null;
  kernelVersion: string;
  dumpVersion: string;
  versionMismatch: boolean;
  panic: { message: string | null; source: string | null; syslog: string; reasons: string[] };
  crashTime: { epoch: number | null; source: string | null; ok: boolean };
  bootTime: number | null;
  now: number;
  space: { spaceFreeKiB: number; neededKiB: number; minfreeKiB: number } | null;
  missingSymbols: string[];
  save: SaveResult;
  reportFile: { name: string; size: number; sha256: string } | null;
  report: unknown;
  invalidation: InvalidationResult | { status: 'pending' };
  warnings: string[];
}

const iso = (t: number | null) => (t === null || !Number.isFinite(t) ? null : new Date(t * 1000).toISOString());

export function buildManifest(m: ManifestInput): Record<string, unknown> {
  const machine = m.kd.machine;
  return {
    format: MANIFEST_FORMAT,
    tool: toolVersion(),
    createdAt: new Date().toISOString(),
    bounds: m.bounds,
    options: m.options,
    device: m.device,
    partition: m.partition && {
      id: m.partition.id, scheme: m.partition.scheme, name: m.partition.name, type: m.partition.type, typeName: m.partition.typeName,
      start: m.partition.start, size: m.partition.size, ...(m.partition.parent ? { parent: m.partition.parent } : {}),
    },
    dump: {
      dumpOffset: m.dumpOffset,
      absoluteOffset: (m.partition?.start ?? 0) + m.dumpOffset,
      dumplo: Math.floor(m.dumpOffset / 512),
      dumpOffsetSource: m.dumpOffsetSource,
      candidates: m.candidates,
      headerSize: m.headerSize,
      memoryOffset: m.kd.dumpOff,
      dumpsizePages: m.dumpsizePages,
      pageSize: m.pageSize,
      dumpbytes: m.dumpbytes,
      dumpmag: m.dumpmag === null ? null : `0x${m.dumpmag.toString(16)}`,
      referenceDumpmag: m.referenceDumpmag === null ? null : `0x${m.referenceDumpmag.toString(16)}`,
      memorySha256: m.save.core?.memorySha256 ?? null,
    },
    machine: machine
      ? {
          name: machine.name,
          mid: m.kd.machineModule?.mid ?? null,
          cpuDataSize: m.kd.cpuDsize,
          segments: machine.segments.map((s) => ({ start: `0x${s.start.toString(16)}`, size: `0x${s.size.toString(16)}` })),
        }
      : null,
    kernel: { path: m.kernelPath, version: m.kernelVersion, symbolsFrom: m.kernelPath ? 'kernel file (-N)' : 'the dump\'s own ksyms (no -N given)' },
    dumpKernelVersion: m.dumpVersion,
    versionMismatch: m.versionMismatch,
    panic: m.panic,
    crashTime: { epoch: m.crashTime.epoch, iso: iso(m.crashTime.epoch), source: m.crashTime.source, reasonable: m.crashTime.ok },
    bootTime: { epoch: m.bootTime, iso: iso(m.bootTime) },
    timeCheckNow: { epoch: m.now, iso: iso(m.now) },
    space: m.space,
    files: {
      core: m.save.core,
      kernel: m.save.kernel && {
        ...m.save.kernel,
        ...(m.save.kernel.source === 'ksyms'
          ? { from: 'the dump (ksyms_hdr, ksyms_symtabs)', method: 'rebuilt from the dump kernel\'s ksyms, as savecore does' }
          : { from: m.kernelPath, method: 'copy of -N kernel file' }),
      },
      report: m.reportFile,
    },
    verification: {
      core: m.save.coreVerification,
      kernel: m.save.kernelVerification,
    },
    missing: {
      symbols: m.missingSymbols,
      ksymsReconstruction: m.save.kernel?.source === 'ksyms'
        ? 'done: netbsd.N is the symbol image rebuilt from the dump'
        : m.missingSymbols.some((s) => s.startsWith('ksyms_'))
          ? 'not possible: the dump kernel has no ksyms_* symbols; netbsd.N is the -N kernel file'
          : `failed (${m.save.ksymsFallback ?? 'unknown reason'}); netbsd.N is the -N kernel file`,
    },
    report: m.report,
    invalidation: m.invalidation,
    warnings: m.warnings,
  };
}

/** boottime.tv_sec, read by the one boot-time reader (core/crash/facts.ts), or null when unreadable. */
export async function readBootTime(kd: Kvm): Promise<number | null> {
  const r = await readBootTimeFact(dumpView(kd));
  return r.ok ? r.value.sec : null;
}
