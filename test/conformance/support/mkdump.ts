// Access to the independent Python dump generator in ../shared/tools/mkdump (mkdump.py, mkcore.py):
// locating it, generating images into a bounded cache under os.tmpdir() (reused across test files
// and runs: the key is the generator's own hash plus the argument list), and loading manifests.
//
// Nothing here is required for a clone without ../shared: `MKDUMP_AVAILABLE` is false and every
// conformance test skips itself with SKIP_MESSAGE.

import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** ../shared/tools/mkdump next to the clone (KVMDUMP_MKDUMP_DIR overrides it, e.g. to test the skip path). */
export const MKDUMP_DIR = process.env.KVMDUMP_MKDUMP_DIR ?? resolve(REPO_ROOT, '..', 'shared', 'tools', 'mkdump');
export const MKDUMP_PY = join(MKDUMP_DIR, 'mkdump.py');
export const MKCORE_PY = join(MKDUMP_DIR, 'mkcore.py');
export const SKIP_MESSAGE = 'skipped: ../shared/tools/mkdump not present';

function pythonWorks(): boolean {
  if (!existsSync(MKDUMP_PY) || !existsSync(MKCORE_PY)) return false;
  try {
    execFileSync('python3', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const MKDUMP_AVAILABLE = pythonWorks();

/** Hash of the generator scripts: a changed generator never reuses stale images. */
function toolHash(): string {
  const h = createHash('sha256');
  for (const f of [MKDUMP_PY, MKCORE_PY]) h.update(readFileSync(f));
  return h.digest('hex').slice(0, 16);
}

let cacheRootMemo: string | null = null;
/** os.tmpdir()/kvmdump-mkdump-cache/<tool hash>; caches of older generator versions are removed. */
export function cacheRoot(): string {
  if (cacheRootMemo) return cacheRootMemo;
  const base = join(tmpdir(), 'kvmdump-mkdump-cache');
  const hash = toolHash();
  mkdirSync(base, { recursive: true });
  for (const d of readdirSync(base)) {
    // Bounded: only the current generator's set is kept (stale dirs older than an hour go away).
    if (d !== hash && /^[0-9a-f]{16}$/.test(d)) {
      const p = join(base, d);
      try {
        if (Date.now() - statSync(p).mtimeMs > 3600_000) rmSync(p, { recursive: true, force: true });
      } catch {
        /* another process removed it */
      }
    }
  }
  cacheRootMemo = join(base, hash);
  mkdirSync(cacheRootMemo, { recursive: true });
  return cacheRootMemo;
}

// ---- manifest types (only the keys the tests read) -----------------------------------------------

export interface Chunk {
  va: string;
  len: number;
  pa?: string;
  page?: string;
  file_off?: number | null;
  mapped?: boolean;
}

export interface WalkInfo {
  walk?: { pa?: string; page?: string; file_off?: number; error?: string; level?: number };
  walk_read?: { ret: number; hex: string };
}

export interface ManifestSymbol extends WalkInfo {
  name: string;
  section: string;
  bind: string;
  type: string;
  role: string;
  va: string;
  size: number;
  pa?: string;
  page?: string;
  file_off?: number | null;
  read_len?: number;
  value_hex?: string | null;
  file_readable?: boolean;
  chunks?: Chunk[];
  translation_corrupted?: boolean;
}

export interface Probe extends WalkInfo {
  name: string;
  va: string;
  len: number;
  expect: 'ok' | 'unmapped' | 'not-dumped' | 'beyond-eof';
  ok_prefix?: number;
  value_hex?: string;
  chunks: Chunk[];
  translation_corrupted?: boolean;
  quirk?: string;
  note?: string;
}

export interface Manifest {
  tool_version: number;
  arch: 'amd64' | 'i386' | 'aarch64';
  flavour?: string;
  pae?: boolean;
  seed: number;
  dumplo: number;
  sparse: boolean;
  corrupt: string | null;
  files: { kernel: { size: number; sha256: string }; dump: { size: number; sha256: string } };
  constants: Record<string, string | number>;
  dump_off: number;
  dump_header: {
    c_size: number;
    nmemsegs_field?: number;
    segments: { start: string; size: string }[];
    dump_header_size: number;
    pdppaddr_field?: string;
    cpu_data_hex: string;
    pa2off_nsegs?: number;
  };
  mem_off: number;
  physical: Record<string, unknown>;
  virtual: { mappings: { va: string; size: string; pa: string; page: string }[]; [k: string]: unknown };
  dumpsize_pages: number;
  dumpsize_bytes: number;
  expected_mkheader_header_size: number;
  expect: {
    mkheader: { ret: number; errbuf?: string };
    wrtheader?: Record<string, { ret: number; len: number; sha256: string }>;
    inval?: { ret: number; dumpmag_pa?: string; file_off?: number; bytes_zeroed?: number; note?: string };
  };
  elf: { symtab_nsyms: number; symtab_index_first_global: number; symtab_index: Record<string, number> };
  symbols: ManifestSymbol[];
  probes: Probe[];
  pa_probes: { pa: string; file_off_intended: number | null }[];
  nlist_quirk_lists: string[][];
}

export interface CoreManifest {
  files: { core: { name: string; size: number; sha256: string }; kernel: { name: string; sha256: string } };
  dumpbytes: number;
  format_b: { header_len: number; header_hex: string; header_sha256: string };
  expect: {
    open: { has_kcore_hdr: boolean; dump_off: number; cpu_dsize: number };
    mkheader: { ret: number; errbuf: string };
    wrtheader: Record<string, { ret: number; len: number; sha256: string }>;
    inval: { ret: number; core_off?: number | null; bytes_zeroed?: number };
  };
  symbols: { name: string; bind: string; va: string; size: number; pa?: string; core_off?: number | null; value_hex?: string; core_readable?: boolean }[];
}

export interface Generated {
  /** A short label for test names. */
  label: string;
  args: string[];
  dir: string;
  kernel: string;
  dump: string;
  manifest: Manifest;
}

function keyOf(args: string[]): string {
  const readable = args.join('_').replace(/[^A-Za-z0-9._-]+/g, '').slice(0, 80);
  return `${readable}-${createHash('sha256').update(JSON.stringify(args)).digest('hex').slice(0, 8)}`;
}

/** Build into a private temp dir, then rename into place: concurrent workers never see half a set. */
async function materialize(target: string, marker: string, build: (tmp: string) => Promise<void>): Promise<void> {
  if (existsSync(join(target, marker))) return;
  const tmp = `${target}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    await build(tmp);
    try {
      renameSync(tmp, target);
    } catch {
      if (!existsSync(join(target, marker))) {
        rmSync(target, { recursive: true, force: true });
        renameSync(tmp, target);
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const generating = new Map<string, Promise<Generated>>();

/** mkdump.py with these arguments (besides --out), generated once per cache. */
export function generate(args: string[], label = args.join(' ')): Promise<Generated> {
  const key = keyOf(args);
  let p = generating.get(key);
  if (!p) {
    p = (async () => {
      const dir = join(cacheRoot(), key);
      await materialize(dir, 'manifest.json', async (tmp) => {
        await run('python3', [MKDUMP_PY, '--out', tmp, ...args], { maxBuffer: 1 << 24 });
        // manifest.json is written last by mkdump.py; its presence marks a complete set.
      });
      const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
      return { label, args, dir, kernel: join(dir, 'netbsd'), dump: join(dir, 'dump.img'), manifest };
    })();
    generating.set(key, p);
  }
  return p;
}

let prefetchChain: Promise<unknown> = Promise.resolve();
/**
 * Start generating these images in the background, one python process at a time: vitest runs one
 * worker on a 2-core machine, so the generator uses the other core while earlier images are checked.
 * Failures surface when a test awaits generate() for the same arguments.
 */
export function prefetch(list: { args: string[]; label: string }[]): void {
  if (!MKDUMP_AVAILABLE) return;
  for (const v of list) {
    prefetchChain = prefetchChain.then(() => generate(v.args, v.label).catch(() => undefined));
  }
}

export interface GeneratedCore {
  dir: string;
  core: string;
  coreGz: string;
  kernel: string;
  manifest: CoreManifest;
}

const coring = new Map<string, Promise<GeneratedCore>>();

/** mkcore.py --bounds 0 for a generated image, plus `gzip -1` of the core. */
export function generateCore(g: Generated): Promise<GeneratedCore> {
  let p = coring.get(g.dir);
  if (!p) {
    p = (async () => {
      const dir = `${g.dir}-core`;
      await materialize(dir, 'core-manifest.json', async (tmp) => {
        await run('python3', [MKCORE_PY, '--dump', g.dir, '--out', tmp, '--bounds', '0'], { maxBuffer: 1 << 24 });
        await run('sh', ['-c', 'gzip -1 -c "$1" > "$1.gz"', 'sh', join(tmp, 'netbsd.0.core')]);
        // core-manifest.json must be the last file a concurrent reader can see: move it in place last.
        renameSync(join(tmp, 'core-manifest.json'), join(tmp, 'core-manifest.json.part'));
        renameSync(join(tmp, 'core-manifest.json.part'), join(tmp, 'core-manifest.json'));
      });
      const manifest = JSON.parse(readFileSync(join(dir, 'core-manifest.json'), 'utf8')) as CoreManifest;
      return {
        dir, core: join(dir, 'netbsd.0.core'), coreGz: join(dir, 'netbsd.0.core.gz'), kernel: join(dir, 'netbsd.0'), manifest,
      };
    })();
    coring.set(g.dir, p);
  }
  return p;
}
