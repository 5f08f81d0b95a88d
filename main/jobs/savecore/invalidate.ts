// kvm_dump_inval on a handle opened writable only for this one write: the device stays read-only
// for everything else the job does (spec 4.8, 7.5).

import type { DumpSource } from '../../../core/source.ts';
import { locateDumpmag } from '../../../core/crash/dumpmag.ts';
import { dumpView } from '../../../core/kvm/view.ts';
import { openDump, OpenError } from '../../session/open-dump.ts';

export interface InvalidationResult {
  status: 'invalidated' | 'failed' | 'skipped';
  /** Where the zeros went (dumpmag's sector or long), when written. */
  offset: number | null;
  length: number | null;
  error: string | null;
  /** With a partition: where the zeros went on the whole disk (the partition's start + offset). */
  absoluteOffset?: number | null;
}

export interface InvalidationSteps {
  /**
   * Called with the device open and its header found, just before the write: records the intent
   * durably (the audit log). Returning a reason instead stops the write.
   */
  beforeWrite?(): Promise<string | null>;
  /** Called after the write is on the medium (tests kill the process here). */
  afterWrite?(): Promise<void> | void;
}

/**
 * `namelist`: the ksyms image found in the dump, standing in for a kernel file that was not given.
 * The write is fsynced before this returns 'invalidated': the result never runs ahead of the disk.
 */
export async function invalidateDump(
  device: string, kernel: string | null, dumpOffset: number, namelist: DumpSource | null = null, steps: InvalidationSteps = {},
  partition?: string,
): Promise<InvalidationResult> {
  let opened;
  try {
    opened = await openDump({ kernelPath: kernel, dumpPath: device, partition, dumpOffset, writable: true });
    if (namelist) opened.kd.useNamelist(namelist);
  } catch (e) {
    if (!(e instanceof OpenError)) throw e;
    return { status: 'failed', offset: null, length: null, error: e.message };
  }
  try {
    const { kd } = opened;
    if (!kd.hasHeader) return { status: 'failed', offset: null, length: null, error: kd.geterr() || 'no dump header' };
    // Never let libkvm's pa2off aim the write past the memory data (at whatever follows the dump).
    const where = await locateDumpmag(dumpView(kd));
    if (!where.ok) return { status: 'failed', offset: null, length: null, error: `not invalidated: ${where.reason}` };
    const stop = (await steps.beforeWrite?.()) ?? null;
    if (stop) return { status: 'skipped', offset: null, length: null, error: stop };
    const rc = await kd.inval();
    const w = kd.lastInval;
    if (rc !== 0 || !w) return { status: 'failed', offset: null, length: null, error: kd.geterr() };
    const at = opened.partition ? { absoluteOffset: opened.partition.start + w.offset } : {};
    try {
      await opened.rawDump.sync?.();
    } catch (e) {
      return { status: 'failed', offset: w.offset, length: w.length, ...at, error: `written, but not confirmed on the medium: ${(e as Error).message}` };
    }
    await steps.afterWrite?.();
    return { status: 'invalidated', offset: w.offset, length: w.length, ...at, error: null };
  } finally {
    await opened.close();
  }
}
