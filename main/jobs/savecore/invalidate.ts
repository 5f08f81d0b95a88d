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
}

/** `namelist`: the ksyms image found in the dump, standing in for a kernel file that was not given. */
export async function invalidateDump(device: string, kernel: string | null, dumpOffset: number, namelist: DumpSource | null = null): Promise<InvalidationResult> {
  let opened;
  try {
    opened = await openDump({ kernelPath: kernel, dumpPath: device, dumpOffset, writable: true });
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
    const rc = await kd.inval();
    const w = kd.lastInval;
    return rc === 0 && w
      ? { status: 'invalidated', offset: w.offset, length: w.length, error: null }
      : { status: 'failed', offset: null, length: null, error: kd.geterr() };
  } finally {
    await opened.close();
  }
}
