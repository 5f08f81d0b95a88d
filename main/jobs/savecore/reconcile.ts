// A run killed between the invalidating write and the manifest's rewrite leaves a manifest that says
// "pending". The next run in that directory finds out what is true — from the audit log when it
// recorded the outcome, else by reading dumpmag on the device — and records it in the manifest.

import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { openDump } from '../../session/open-dump.ts';
import type { AuditLog } from './audit.ts';
import { writeFileVerified } from './writer.ts';

const MANIFEST = /^netbsd\.(\d+)\.manifest\.json$/;

type Found = { status: 'invalidated' | 'not-invalidated' | 'unknown'; how: string; offset?: number | null; length?: number | null };

/** Reconcile every pending manifest in `dir`; one sentence per manifest changed. */
export async function reconcilePendingManifests(dir: string, audit: AuditLog): Promise<string[]> {
  let names: string[];
  try {
    names = (await fsp.readdir(dir)).filter((n) => MANIFEST.test(n));
  } catch {
    return [];
  }
  const said: string[] = [];
  for (const name of names) {
    const path = join(dir, name);
    let manifest: Record<string, any>;
    try {
      manifest = JSON.parse(await fsp.readFile(path, 'utf8'));
    } catch {
      continue; // not ours to judge: an unreadable manifest is left as it is
    }
    if (manifest?.invalidation?.status !== 'pending') continue;
    const bounds = Number(MANIFEST.exec(name)![1]);
    const found = (await fromAuditLog(audit, bounds)) ?? (await fromDevice(manifest));
    manifest.invalidation = {
      status: found.status, offset: found.offset ?? null, length: found.length ?? null,
      error: found.status === 'unknown' ? found.how : null,
      reconciled: { at: new Date().toISOString(), how: found.how },
    };
    try {
      await writeFileVerified(path, JSON.stringify(manifest, null, 2) + '\n');
    } catch (e) {
      said.push(`${path}: still says 'pending' (${(e as Error).message}); the dump ${found.status === 'invalidated' ? 'was' : 'may not have been'} invalidated`);
      continue;
    }
    await audit.append({ action: 'reconcile', device: String(manifest.device?.path ?? ''), bounds, manifest: path, ...found });
    said.push(`${path} said the invalidation was pending (an interrupted run): ${describe(found)}; recorded`);
  }
  return said;
}

function describe(f: Found): string {
  return f.status === 'unknown' ? `whether the dump was invalidated is unknown (${f.how})` : `the dump was ${f.status === 'invalidated' ? '' : 'not '}invalidated (${f.how})`;
}

/** The outcome the interrupted run logged, if it got that far. */
async function fromAuditLog(audit: AuditLog, bounds: number): Promise<Found | null> {
  const done = (await audit.entries()).filter((e) => e.action === 'invalidate' && e.bounds === bounds).at(-1);
  if (!done) return null;
  return {
    status: done.status === 'invalidated' ? 'invalidated' : 'not-invalidated',
    how: 'the audit log recorded the outcome', offset: (done.offset as number) ?? null, length: (done.length as number) ?? null,
  };
}

/** Read dumpmag on the device now: zero means the write happened. */
async function fromDevice(manifest: Record<string, any>): Promise<Found> {
  const device = manifest.device?.path;
  // A dump in a partition is read through the whole disk at its absolute offset: the same bytes,
  // without trusting the partition map a second time.
  const dumpOffset = typeof manifest.dump?.absoluteOffset === 'number' ? manifest.dump.absoluteOffset : manifest.dump?.dumpOffset;
  const kernel = manifest.options?.kernel ?? null;
  if (typeof device !== 'string' || typeof dumpOffset !== 'number') return { status: 'unknown', how: 'the manifest does not name the device and offset' };
  let opened;
  try {
    opened = await openDump({ kernelPath: kernel, dumpPath: device, dumpOffset, writable: false, ...(kernel ? {} : { symbolsFromDump: {} }) });
  } catch (e) {
    return { status: 'unknown', how: `${device} cannot be opened: ${(e as Error).message}` };
  }
  try {
    const { kd } = opened;
    const nl = await kd.nlist(['_dumpmag']);
    if (nl.result === -1 || !nl.entries[0]?.found) return { status: 'unknown', how: 'dumpmag cannot be located without the kernel\'s symbols' };
    const word = new Uint8Array(kd.longSize);
    if ((await kd.read(nl.entries[0].value, word)) !== word.length) return { status: 'unknown', how: `dumpmag cannot be read: ${kd.geterr()}` };
    return word.every((b) => b === 0)
      ? { status: 'invalidated', how: `dumpmag on ${device} reads zero` }
      : { status: 'not-invalidated', how: `dumpmag on ${device} is still set` };
  } finally {
    await opened.close();
  }
}
