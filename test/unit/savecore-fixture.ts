// Shared set-up for the savecore tests: a fixture dump written to a real tmp directory, the core
// file savecore must produce computed independently from the fixture facts (spec 1.2), and a run
// helper with a fixed "now".

import { createHash } from 'node:crypto';
import { afterEach } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDumpImage, type DumpImage, type DumpImageOptions } from '../fixtures/dump-image.ts';
import { DEFAULT_TIME_SECOND } from '../fixtures/kernel-data.ts';
import { runSavecore, type SavecoreControl, type SavecoreResult } from '../../main/jobs/savecore/job.ts';
import type { SavecoreOptions } from '../../main/jobs/savecore/options.ts';

export const NOW = Number(DEFAULT_TIME_SECOND) + 3600;
export const PAGE = 4096;

export interface DumpOnDisk {
  root: string;
  crashDir: string;
  device: string;
  kernel: string;
  img: DumpImage;
  /** The image as written (before any run). */
  original: Uint8Array;
  cleanup(): void;
}

/** writeDump for a test file: every dump it made is removed after each test. */
export function dumpsRemovedAfterEach(): typeof writeDump {
  const made: DumpOnDisk[] = [];
  afterEach(() => {
    while (made.length) made.pop()!.cleanup();
  });
  return (...a) => {
    const d = writeDump(...a);
    made.push(d);
    return d;
  };
}

export function writeDump(opts: DumpImageOptions, patch?: (bytes: Uint8Array, img: DumpImage) => void): DumpOnDisk {
  const root = mkdtempSync(join(tmpdir(), 'savecore-'));
  const crashDir = join(root, 'crash');
  mkdirSync(crashDir);
  const img = buildDumpImage(opts);
  const bytes = img.toBytes();
  patch?.(bytes, img);
  const device = join(root, 'dump.img');
  const kernel = join(root, 'netbsd');
  writeFileSync(device, bytes);
  writeFileSync(kernel, img.kernel);
  return { root, crashDir, device, kernel, img, original: bytes, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** The format-B core savecore writes (spec 1.2), built from the fixture facts, not from kd.wrtheader. */
export function expectedCore(img: DumpImage, image: Uint8Array, pageSize = PAGE): Uint8Array {
  const f = img.facts;
  const a = f.layout.alignBytes;
  const align = (n: number) => (n + a) & ~a;
  const hdrsize = align(12);
  const seghdr = align(8);
  const cpuAligned = align(f.cpuData.length);
  const dumpbytes = f.dumpsizePages * pageSize;
  const D = hdrsize + seghdr + cpuAligned + seghdr;
  const out = new Uint8Array(D + dumpbytes);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, ((f.layout.mid << 16) | 0x8fca) >>> 0, false);
  dv.setUint16(4, hdrsize, true);
  dv.setUint16(6, seghdr, true);
  dv.setUint32(8, 2, true);
  dv.setUint32(hdrsize, ((1 << 26) | 0x8fac) >>> 0, false);
  dv.setUint32(hdrsize + 4, cpuAligned, true);
  out.set(f.cpuData, hdrsize + seghdr);
  const dataSeg = hdrsize + seghdr + cpuAligned;
  dv.setUint32(dataSeg, ((2 << 26) | 0x8fac) >>> 0, false);
  dv.setUint32(dataSeg + 4, dumpbytes % 2 ** 32, true);
  out.set(image.subarray(f.memOff, f.memOff + dumpbytes), D);
  return out;
}

export function headerLength(img: DumpImage): number {
  const a = img.facts.layout.alignBytes;
  const align = (n: number) => (n + a) & ~a;
  return align(12) + 2 * align(8) + align(img.facts.cpuData.length);
}

export function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

export function run(d: DumpOnDisk, extra: Partial<SavecoreOptions> = {}, ctl: SavecoreControl = {}): Promise<SavecoreResult> {
  return runSavecore({ directory: d.crashDir, device: d.device, kernel: d.kernel, dumpOffset: d.img.facts.dumpOff, now: NOW, ...extra }, ctl);
}

export function readImage(d: DumpOnDisk): Uint8Array {
  return new Uint8Array(readFileSync(d.device));
}

/** Whether the dump's dumpmag is zeroed (kvm_dump_inval wrote longSize zeros there). */
export function isInvalidated(d: DumpOnDisk): boolean {
  const s = d.img.facts.symbols.dumpmag;
  const now = readImage(d).subarray(s.fileOff, s.fileOff + d.img.facts.layout.longSize);
  return now.every((b) => b === 0);
}

export function messagesOf(r: SavecoreResult): string[] {
  return r.messages.map((m) => m.message);
}

export function auditLines(d: DumpOnDisk): Record<string, unknown>[] {
  try {
    return readFileSync(join(d.crashDir, 'kvmdump-audit.log'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  } catch {
    return [];
  }
}
