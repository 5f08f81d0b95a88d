// A kernel + dump image on disk for app, serve and e2e tests, built by the project's own fixture
// builder (test/fixtures/dump-image.ts) so no test depends on anything outside the repository.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildDumpImage, type DumpImage, type TriageSpec } from '../../fixtures/dump-image.ts';
import type { Flavour } from '../../fixtures/pagetables.ts';

export interface DumpFiles {
  dir: string;
  kernelPath: string;
  dumpPath: string;
  dumpOffset: number;
  image: DumpImage;
  cleanup(): void;
}

export function writeDumpFiles(opts: { seed?: number; gzip?: boolean; triage?: TriageSpec; kernelFrom?: TriageSpec; dumplo?: number; flavour?: Flavour } = {}): DumpFiles {
  const image = buildDumpImage({ flavour: opts.flavour ?? 'amd64', seed: opts.seed ?? 1, triage: opts.triage, dumplo: opts.dumplo });
  // A kernel file of another build (e.g. another version string) to provoke the mismatch warning.
  const kernel = opts.kernelFrom ? buildDumpImage({ flavour: opts.flavour ?? 'amd64', seed: opts.seed ?? 1, triage: opts.kernelFrom }).kernel : image.kernel;
  const dir = mkdtempSync(join(tmpdir(), 'kvmdump-app-'));
  const kernelPath = join(dir, 'netbsd');
  const dumpPath = join(dir, opts.gzip ? 'dump.img.gz' : 'dump.img');
  writeFileSync(kernelPath, kernel);
  const bytes = image.toBytes();
  writeFileSync(dumpPath, opts.gzip ? gzipSync(bytes) : bytes);
  return { dir, kernelPath, dumpPath, dumpOffset: image.facts.dumpOff, image, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
