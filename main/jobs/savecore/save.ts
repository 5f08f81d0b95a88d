// save_core (spec 7.6) with evidence handling: netbsd.N.core = kvm_dump_wrtheader's header + exactly
// dumpbytes of memory from the first memory byte, and netbsd.N = the kernel rebuilt from the dump's
// ksyms (spec 7.7) or else the -N kernel, both written under temporary names, hashed on the fly,
// read back and verified, and only then given their names.

import { createHash, type Hash } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import { basename } from 'node:path';
import { MemorySink, type DumpSource } from '../../../core/source.ts';
import type { Kvm } from '../../../core/kvm.ts';
import { GzipPool, ParallelGzipWriter, type ByteWriter, type MemberProof, type Tamper } from './compress.ts';
import { DumpReadFailure, readRegion } from './copy.ts';
import { sharedBytes, streamSha256, ThreadedSha256, type StreamHash } from './hash.ts';
import { ProgressMeter, type EventSink } from './events.ts';
import type { LogLine } from './checks.ts';
import { PipelinedReadBack, verifyCore, type VerifyResult } from './verify.ts';
import { DurableFile, WriteError } from './writer.ts';
import { writeKsymsKernel, type KsymsAddresses } from '../../../core/ksyms/rebuild.ts';
import { dumpView } from '../../../core/kvm/view.ts';
import { errnoOf, strerror } from '../../../core/errno.ts';

export interface SaveInput {
  kd: Kvm;
  /** Where the memory bytes are read from (the device itself, not the kvm cache). */
  memorySource: DumpSource;
  deviceName: string;
  /** The -N kernel file; null when none was given (then only the ksyms rebuild can make netbsd.N). */
  kernelSource: DumpSource | null;
  /** The dump kernel's ksyms_* addresses: savecore rebuilds netbsd.N from them first; null = copy -N. */
  ksyms: KsymsAddresses | null;
  corePath: string;
  kernelPath: string;
  dumpbytes: number;
  compress: boolean;
  level: number;
  blockSize: number;
  gzipChunkSize: number;
  workers?: number;
  /** Plain: bytes fsynced and re-read at a time while the rest is written (default READ_BACK_RANGE; tests). */
  readBackRange?: number;
  /** Tests: see GzipPool's hooks. */
  tamperMember?(n: number): Tamper;
  signal?: AbortSignal;
  emit: EventSink;
  log(line: LogLine): void;
  beforeVerify?(tempCorePath: string): Promise<void> | void;
  onBlockCopied?(done: number, total: number): void;
}

export interface SavedFile {
  path: string;
  name: string;
  /** Bytes on disk (compressed for -z). */
  size: number;
  sha256: string;
  compressed: boolean;
}

export interface SaveResult {
  ok: boolean;
  /** 'read' / 'write': savecore's "core may be incomplete"; 'verify': the read-back differed. */
  failure: 'header' | 'read' | 'write' | 'verify' | 'no-kernel' | null;
  core: SavedFile & { headerLength: number; headerSha256: string; memoryOffset: number; memoryLength: number; memorySha256: string } | null;
  /**
   * netbsd.N: `source` says where its bytes came from; sourceSha256/sourceLength describe them
   * uncompressed (the -N file, or the image rebuilt from ksyms).
   */
  kernel: SavedFile & { source: KernelOrigin; sourceSha256: string; sourceLength: number } | null;
  /** Why the ksyms rebuild was not used, when it was tried and fell back to -N. */
  ksymsFallback: string | null;
  coreVerification: VerifyResult | null;
  kernelVerification: VerifyResult | null;
}

/** An output stream: the file itself, or parallel gzip members into it. */
interface OutputStream extends ByteWriter {
  end(): Promise<void>;
  /** Writes that may be outstanding at once (positional file writes may overlap; gzip may not). */
  concurrency: number;
  /** -z: what the gzip writer proved of its members (complete after end()); null for a plain file. */
  proof(): MemberProof | null;
}

/** What verification is given for a -z file: the writer's proof and the hashes of the chunks. */
type ProvenMembers = MemberProof & { headerSha256: string; memorySha256: string };

/**
 * For -z the content is hashed as it goes to the workers, chunk by chunk: those chunks are the bytes
 * each member is proven to inflate to (compress.ts), so these hashes are of what the archive
 * decompresses to. The first `headerLength` bytes go to `header`, the rest to `rest`.
 */
function chunkHasher(rest: StreamHash | Hash, headerLength = 0, header?: Hash): (chunk: Uint8Array) => Promise<void> {
  let at = 0;
  return async (c) => {
    const h = Math.max(0, Math.min(c.length, headerLength - at));
    if (h > 0) header!.update(c.subarray(0, h));
    if (c.length > h) await rest.update(c.subarray(h));
    at += c.length;
  };
}

const WRITE_BEHIND = 4;
/** A plain core is fsynced and re-read by ranges of this size while the rest is written. */
const READ_BACK_RANGE = 64 << 20;

export type KernelOrigin = 'ksyms' | 'kernel-file';

/** The output; with a pool, `onChunk` receives every chunk (see chunkHasher), for a plain file the caller hashes. */
function openOutput(file: DurableFile, input: SaveInput, pool: GzipPool | null, onChunk?: (c: Uint8Array) => Promise<void>): OutputStream {
  if (!pool) return { write: (c) => file.write(c), end: async () => undefined, concurrency: WRITE_BEHIND, proof: () => null };
  const gz = new ParallelGzipWriter(pool, file, input.gzipChunkSize, { onChunk });
  return { write: (c) => gz.write(c), end: () => gz.end(), concurrency: 1, proof: () => gz.proof() };
}

/** Bytes savecore copies: its loop runs while dumpbytes > 0, so a negative dumpsize copies none. */
export function copiedLength(dumpbytes: number): number {
  return Math.max(0, dumpbytes);
}

/** (int32) dumpbytes: what savecore passes to kvm_dump_wrtheader (spec 9.4). */
export function cIntOf(n: number): number {
  return Number(BigInt.asIntN(32, BigInt(Math.trunc(n))));
}

export async function saveCore(input: SaveInput): Promise<SaveResult> {
  const result: SaveResult = { ok: false, failure: null, core: null, kernel: null, ksymsFallback: null, coreVerification: null, kernelVerification: null };
  const files: DurableFile[] = [];
  let readBack: PipelinedReadBack | null = null;
  const pool = input.compress ? new GzipPool(input.level, input.workers, { tamperMember: input.tamperMember }) : null;
  try {
    // savecore opens the core (7.6 step 3) and writes its header (6) before announcing it (7).
    const core = await createCore(input);
    files.push(core);

    const header = new MemorySink();
    if ((await input.kd.wrtheader(header, cIntOf(input.dumpbytes))) === -1) {
      input.log({ priority: 'err', message: `kvm_dump_wrtheader: ${input.corePath} : ${input.kd.geterr()}` });
      result.failure = 'header';
      return result;
    }
    input.log({ priority: 'notice', message: `writing ${input.compress ? 'compressed ' : ''}core to ${input.corePath}` });
    const headerBytes = header.bytes();
    // plain: the read-back runs beside the copy (copyCore), -z: after it (verify.ts)
    readBack = input.compress ? null : await PipelinedReadBack.open(core.tempPath, headerBytes.length);
    const memory = await copyCore(input, core, pool, headerBytes, result, readBack);
    if (!memory) return result;
    const coreSha = await core.finish();

    input.log({ priority: 'notice', message: `writing ${input.compress ? 'compressed ' : ''}kernel to ${input.kernelPath}` });
    // save_core's loop: the ksyms image first; on a failed read the file is removed and made anew
    // from -N.
    let kernel = await DurableFile.create(input.kernelPath, streamSha256());
    files.push(kernel);
    let kernelContent = input.ksyms ? await rebuildKernel(input, input.ksyms, kernel, pool, result) : null;
    if (kernelContent === 'failed') return result;
    if (kernelContent === null && input.ksyms) {
      files.pop();
      await kernel.abort();
      kernel = await DurableFile.create(input.kernelPath, streamSha256());
      files.push(kernel);
    }
    if (kernelContent === null && !input.kernelSource) {
      // savecore's save_kernel opens the -N path, NULL here: "(null): Bad address", exit 1.
      input.log({ priority: 'err', message: `(null): ${strerror('EFAULT')}` });
      input.log({ priority: 'err', message: `no kernel file (-N) to copy, and netbsd.N could not be rebuilt from the dump's ksyms (${result.ksymsFallback ?? 'no ksyms symbols'})` });
      result.failure = 'no-kernel';
      return result;
    }
    kernelContent ??= await copyKernel(input, input.kernelSource!, kernel, pool, result);
    if (kernelContent === null) return result;
    const kernelSha = await kernel.finish();

    await input.beforeVerify?.(core.tempPath);
    const headerSha256 = sha256Of(headerBytes);
    const memoryLength = copiedLength(input.dumpbytes);
    const meter = new ProgressMeter(input.emit, 'verify', headerBytes.length + memoryLength);
    result.coreVerification = await verifyOrExplain({
      path: core.tempPath, compressed: input.compress, headerLength: headerBytes.length, headerSha256,
      memoryLength, memorySha256: memory.sha256, fileSha256: coreSha,
      // plain: header compared and memory hashed = every byte checked; re-hashing the file adds nothing
      checkFileHash: input.compress, members: memory.members,
    }, input.signal, (d) => meter.update(d), readBack);
    meter.update(headerBytes.length + memoryLength, true);
    result.kernelVerification = await verifyOrExplain({
      path: kernel.tempPath, compressed: input.compress, headerLength: 0, headerSha256: sha256Of(new Uint8Array(0)),
      memoryLength: kernelContent.length, memorySha256: kernelContent.sha256, fileSha256: kernelSha, checkFileHash: input.compress,
      members: kernelContent.members,
    }, input.signal);
    for (const [what, v] of [['core', result.coreVerification], ['kernel', result.kernelVerification]] as const) {
      if (!v.ok) {
        input.log({ priority: 'err', message: `verification of the ${what} failed: ${v.reason}` });
        result.failure = 'verify';
        return result;
      }
    }

    await core.publish();
    try {
      await kernel.publish();
    } catch (e) {
      await unlink(input.corePath).catch(() => undefined); // just linked by us: no core without its kernel
      throw e;
    }
    files.length = 0; // published: nothing left to remove
    result.core = {
      path: input.corePath, name: basename(input.corePath), size: core.bytesWritten, sha256: coreSha, compressed: input.compress,
      headerLength: headerBytes.length, headerSha256, memoryOffset: input.kd.dumpOff, memoryLength, memorySha256: memory.sha256,
    };
    result.kernel = {
      path: input.kernelPath, name: basename(input.kernelPath), size: kernel.bytesWritten, sha256: kernelSha, compressed: input.compress,
      source: kernelContent.origin, sourceSha256: kernelContent.sha256, sourceLength: kernelContent.length,
    };
    result.ok = true;
    return result;
  } catch (e) {
    if (e instanceof WriteError) {
      input.log({ priority: 'err', message: e.message });
      result.failure = 'write';
      return result;
    }
    throw e;
  } finally {
    await readBack?.dispose();
    for (const f of files) await f.abort();
    await pool?.close();
  }
}

/** The core's temporary file; savecore's "<path>: fdopen: %m" (plain) or "<path>: %m" (-z) on failure. */
async function createCore(input: SaveInput): Promise<DurableFile> {
  try {
    // plain: the bytes as written are hashed on a thread of their own, from the shared blocks
    return await DurableFile.create(input.corePath, input.compress ? streamSha256() : new ThreadedSha256());
  } catch (e) {
    if (!(e instanceof WriteError) || input.compress) throw e;
    throw new WriteError(e.errno, `${input.corePath}: fdopen: ${strerror(e.errno)}`);
  }
}

async function verifyOrExplain(
  exp: Parameters<typeof verifyCore>[0], signal: AbortSignal | undefined, onProgress?: (d: number) => void,
  readBack: PipelinedReadBack | null = null,
): Promise<VerifyResult> {
  try {
    return readBack ? await readBack.finish(exp, { signal, onProgress }) : await verifyCore(exp, { signal, onProgress });
  } catch (e) {
    if (signal?.aborted) throw e;
    const none = '';
    return { ok: false, reason: `cannot read back ${exp.path}: ${(e as Error).message}`, fileSha256: none, headerSha256: none, memorySha256: none, coreLength: 0, fileSha256Checked: false, method: exp.members ? 'member-proof' : 'read-back' };
  }
}

/** Header then the memory data; null (with savecore's messages logged) on a read or write failure. */
async function copyCore(
  input: SaveInput, file: DurableFile, pool: GzipPool | null, headerBytes: Uint8Array, result: SaveResult,
  readBack: PipelinedReadBack | null,
): Promise<{ sha256: string; members?: ProvenMembers } | null> {
  const hash = streamSha256();
  const headerHash = createHash('sha256');
  // -z: header and memory hashed over the chunks the members are proven to inflate to; plain: the
  // memory hashed block by block as read
  const out = openOutput(file, input, pool, chunkHasher(hash, headerBytes.length, headerHash));
  const total = copiedLength(input.dumpbytes);
  const meter = new ProgressMeter(input.emit, 'core', total);
  const writes: { p: Promise<void>; block?: Uint8Array }[] = [];
  const track = (p: Promise<void>, block?: Uint8Array) => {
    p.catch(() => undefined); // awaited in order below
    writes.push({ p, block });
  };
  // plain: blocks written (and hashed) are read into again, not allocated anew (page faults)
  const spare: Uint8Array[] = [];
  const alloc = (size: number) => (spare.length > 0 && spare[spare.length - 1].length === size ? spare.pop()! : sharedBytes(size));
  // plain: every READ_BACK_RANGE bytes written, fdatasync them and re-read them while the next are written
  let written = 0;
  let rangeEnd = 0;
  let readingBack: Promise<void> = Promise.resolve();
  const settleOne = async (last = false) => {
    const w = writes.shift()!;
    await w.p;
    written += w.block?.length ?? headerBytes.length;
    if (w.block && !pool) {
      await hash.settled?.();
      spare.push(w.block);
    }
    // the last writes are re-read by verification, after the file's final fsync
    if (readBack && !last && written - rangeEnd >= (input.readBackRange ?? READ_BACK_RANGE)) {
      const end = (rangeEnd = written);
      readingBack = readingBack.then(async () => {
        await file.datasync();
        await readBack.through(end, input.signal);
      });
      readingBack.catch(() => undefined); // awaited below
    }
  };
  let done = 0;
  try {
    track(out.write(headerBytes));
    if (total > 0) {
      // plain: blocks in shared memory, so the hash of the file as written takes them without a copy
      for await (const block of readRegion(input.memorySource, input.kd.dumpOff, total, input.blockSize, 4, input.signal, pool ? undefined : alloc)) {
        if (!pool) await hash.update(block);
        while (writes.length >= out.concurrency) await settleOne();
        track(out.write(block), block);
        done += block.length;
        meter.update(done);
        input.onBlockCopied?.(done, total);
        input.signal?.throwIfAborted();
      }
    }
    while (writes.length > 0) await settleOne(true);
    await out.end();
    await readingBack;
  } catch (e) {
    await Promise.allSettled([...writes.map((w) => w.p), readingBack]); // nothing may still be running when the file is removed
    await hash.dispose();
    if (e instanceof DumpReadFailure) {
      input.log(e.detail.kind === 'eof'
        ? { priority: 'warning', message: 'WARNING: EOF on dump device' }
        : { priority: 'err', message: `${input.deviceName}: ${strerror(errnoOf(e.detail.error))}` }); // savecore's "%m"
      input.log({ priority: 'warning', message: 'WARNING: core may be incomplete' });
      result.failure = 'read';
      return null;
    }
    if (e instanceof WriteError) {
      input.log({ priority: 'err', message: e.message });
      input.log({ priority: 'warning', message: 'WARNING: core may be incomplete' });
      result.failure = 'write';
      return null;
    }
    throw e;
  }
  meter.update(done, true);
  const sha256 = await hash.digest();
  const proof = out.proof();
  return { sha256, members: proof ? { ...proof, headerSha256: headerHash.digest('hex'), memorySha256: sha256 } : undefined };
}

interface KernelContent {
  origin: KernelOrigin;
  /** SHA-256 and length of the uncompressed kernel bytes written. */
  sha256: string;
  length: number;
  /** -z: the writer's proof (verify.ts). */
  members?: ProvenMembers;
}

/** The kernel's content hash and, for -z, the members' proof. */
function kernelContent(origin: KernelOrigin, hash: Hash, length: number, out: OutputStream): KernelContent {
  const sha256 = hash.digest('hex');
  const proof = out.proof();
  return { origin, sha256, length, members: proof ? { ...proof, headerSha256: sha256Of(new Uint8Array(0)), memorySha256: sha256 } : undefined };
}

/**
 * save_ksyms into `file`: the content, null to fall back to -N (savecore's warning logged), or
 * 'failed' when writing failed (fatal, with savecore's messages).
 */
async function rebuildKernel(
  input: SaveInput, at: KsymsAddresses, file: DurableFile, pool: GzipPool | null, result: SaveResult,
): Promise<KernelContent | null | 'failed'> {
  const hash = createHash('sha256');
  const out = openOutput(file, input, pool, chunkHasher(hash));
  try {
    const r = await writeKsymsKernel(dumpView(input.kd), at, async (chunk) => {
      if (!pool) hash.update(chunk);
      await out.write(chunk);
    }, input.signal);
    await out.end(); // also on failure: nothing may still be writing when the file is removed
    if (!r.ok) {
      if (r.warning) input.log({ priority: 'warning', message: r.warning });
      result.ksymsFallback = r.reason;
      return null;
    }
    return kernelContent('ksyms', hash, r.bytes, out);
  } catch (e) {
    if (!(e instanceof WriteError)) throw e;
    input.log({ priority: 'err', message: e.message });
    input.log({ priority: 'warning', message: 'WARNING: kernel may be incomplete' });
    result.failure = 'write';
    return 'failed';
  }
}

/** The -N kernel in 1 MiB reads (savecore's fallback copy). */
async function copyKernel(input: SaveInput, src: DumpSource, file: DurableFile, pool: GzipPool | null, result: SaveResult): Promise<KernelContent | null> {
  const hash = createHash('sha256');
  const out = openOutput(file, input, pool, chunkHasher(hash));
  const meter = new ProgressMeter(input.emit, 'kernel', src.size);
  let done = 0;
  try {
    for await (const block of readRegion(src, 0, src.size, 1 << 20, 2, input.signal)) {
      if (!pool) hash.update(block);
      await out.write(block);
      done += block.length;
      meter.update(done);
    }
    await out.end();
  } catch (e) {
    if (e instanceof DumpReadFailure || e instanceof WriteError) {
      input.log({ priority: 'err', message: e instanceof WriteError ? e.message : `${src.name}: ${e.message}` });
      input.log({ priority: 'warning', message: 'WARNING: kernel may be incomplete' });
      result.failure = e instanceof WriteError ? 'write' : 'read';
      return null;
    }
    throw e;
  }
  meter.update(done, true);
  return kernelContent('kernel-file', hash, done, out);
}

function sha256Of(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}
