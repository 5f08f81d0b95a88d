// Find (a job: progress, cancel, hits listed) and Save selection (a new file, never over an
// existing one, crash-safe), both through the strict layers.

import { createHash, randomBytes } from 'node:crypto';
import { link, open, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parsePattern } from '../../../core/find/pattern.ts';
import { findInRegions, FindCancelled } from '../../../core/find/search.ts';
import { mappedRegions, physicalRegions } from '../../../core/layers/regions.ts';
import type { StrictRead } from '../../../core/layers/types.ts';
import type { OpParsedArgs } from '../../../contract/operations.ts';
import type { JobStarted, SavedMemory } from '../../../contract/results.ts';
import { fromHexAddress, toHexAddress } from '../../../contract/values.ts';
import { checkNewPath, createNewFile, RefusedOutput } from '../../fs/new-file.ts';
import { OpFailure } from '../dispatch.ts';
import { type HandlerContext, requireSession, withSession } from '../context.ts';
import { spaceLimit } from './viewer-ops.ts';
import { sessionView } from '../session-view.ts';

const PROGRESS_INTERVAL_MS = 100;

export async function startFindOp(ctx: HandlerContext, a: OpParsedArgs<'startFind'>): Promise<JobStarted> {
  const s = requireSession(ctx, a.sessionId);
  const view = sessionView(s);
  if (!view.hasHeader) throw new OpFailure('kvm-error', 'no valid dump header: there is no memory to search');
  const parsed = parsePattern(a.kind, a.text, { pointerSize: view.longSize, littleEndian: view.littleEndian });
  if (!parsed.ok) throw new OpFailure('bad-request', parsed.error);
  const opened = s.opened;
  const jobId = ctx.jobs.start('find', async (r) => {
    const limit = spaceLimit(view, a.space, opened.dump.size);
    r.progress(0, 0, a.space === 'virtual' ? 'finding the mapped pages' : 'reading the segments');
    const scan = a.space === 'virtual'
      ? await mappedRegions(view.virtual, 0n, limit, { signal: r.signal })
      : physicalRegions(view.physical, 0n, limit);
    if (r.signal.aborted) throw new FindCancelled();
    // The session's dump was reopened (written, or changed on disk): these bytes are not current.
    const read = (address: bigint, length: number): Promise<StrictRead> => {
      if (s.opened !== opened) throw new Error('the dump was reopened during the search; search again');
      return a.space === 'virtual' ? view.virtual.read(address, length) : view.physical.read(address, length);
    };
    let last = 0;
    const found = await findInRegions(scan.regions, read, parsed.pattern, {
      maxHits: a.maxHits ?? 1000,
      signal: r.signal,
      onProgress: (done, total) => {
        const now = Date.now();
        if (now - last < PROGRESS_INTERVAL_MS && done < total) return;
        last = now;
        // Progress in KiB keeps the counts exact integers for any memory size.
        r.progress(Number(done >> 10n), Number(total >> 10n), `searched ${done >> 20n} of ${total >> 20n} MiB`);
      },
    });
    const n = found.hits.length;
    return {
      outputs: [],
      message: `${n}${found.truncated ? '+' : ''} match${n === 1 ? '' : 'es'}`,
      find: {
        space: a.space, pattern: `${a.kind}: ${a.text}`, hits: found.hits.map(toHexAddress), truncated: found.truncated,
        searchedBytes: toHexAddress(found.searchedBytes), faultedBytes: toHexAddress(found.faultedBytes),
        incompleteAt: scan.complete || scan.stoppedAt === null ? null : toHexAddress(scan.stoppedAt),
      },
    };
  });
  return { jobId };
}

const SAVE_CHUNK = 1 << 20;

export async function saveMemoryOp(ctx: HandlerContext, a: OpParsedArgs<'saveMemory'>): Promise<SavedMemory> {
  return withSession(ctx, a.sessionId, async (s) => {
    const view = sessionView(s);
    if (a.space !== 'file' && !view.hasHeader) throw new OpFailure('kvm-error', 'no valid dump header: no memory to save');
    const start = fromHexAddress(a.address);
    const read = (at: bigint, n: number) => (a.space === 'virtual' ? view.virtual.read(at, n)
      : a.space === 'physical' ? view.physical.read(at, n) : view.file.read(Number(at), n));
    const protect = [s.params.dumpPath, s.params.kernelPath];
    const temp = `${a.path}.partial-${randomBytes(4).toString('hex')}`;
    let fh;
    try {
      await checkNewPath(a.path, protect); // refuse early, with the reason; link() below re-checks atomically
      fh = await createNewFile(temp, protect);
    } catch (e) {
      if (e instanceof RefusedOutput) throw new OpFailure('bad-request', e.message);
      throw new OpFailure('bad-request', `${a.path}: ${(e as Error).message}`);
    }
    // Streamed a chunk at a time into the temporary file (constant memory, any length); a hole
    // found on the way removes it, so a selection with a hole saves nothing under the name asked.
    const hash = createHash('sha256');
    try {
      for (let done = 0; done < a.length;) {
        const n = Math.min(SAVE_CHUNK, a.length - done);
        const got = await read(start + BigInt(done), n);
        const f = got.faults[0];
        if (f) throw new OpFailure('kvm-error', `not saved: ${toHexAddress(f.address)} (+${done + f.offset} in the selection) is unreadable: ${f.reason}`);
        await fh.write(got.data);
        hash.update(got.data);
        done += n;
      }
      await fh.sync();
      await fh.close();
      fh = null;
      // link() never replaces: a file that appeared at the name meanwhile wins, and we say so.
      await link(temp, a.path).catch((e: NodeJS.ErrnoException) => {
        throw new OpFailure('bad-request', `${a.path}: ${e.code === 'EEXIST' ? 'a file appeared there meanwhile; not replaced' : e.message}`);
      });
      await unlink(temp);
      const dir = await open(dirname(a.path), 'r');
      await dir.sync().finally(() => dir.close());
    } catch (e) {
      await fh?.close().catch(() => {});
      await unlink(temp).catch(() => {});
      if (e instanceof OpFailure) throw e;
      throw new OpFailure('bad-request', `${a.path}: not saved: ${(e as Error).message}`);
    }
    return { path: a.path, bytes: a.length, sha256: hash.digest('hex') };
  });
}
