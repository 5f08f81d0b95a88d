// Both stream hashers give exactly node:crypto's SHA-256 of the bytes in call order, and the
// choice between them follows the core count (so both paths are tested on any machine).
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InlineSha256, streamSha256, ThreadedSha256 } from '../../main/jobs/savecore/hash.ts';
import { patterned } from '../fixtures/bytes.ts';

describe('stream SHA-256', () => {
  const chunks = [patterned(1 << 20, 1), new Uint8Array(0), patterned(4097, 2), patterned(3 << 20, 3)];
  const expected = createHash('sha256');
  for (const c of chunks) expected.update(c);
  const digest = expected.digest('hex');

  it.each([['inline', () => new InlineSha256()], ['worker thread', () => new ThreadedSha256(2)]] as const)('%s hasher equals node:crypto', async (_name, make) => {
    const h = make();
    for (const c of chunks) await h.update(c);
    expect(await h.digest()).toBe(digest);
  });

  it('streamSha256 hashes on the calling thread on 2 cores, on a worker with more', async () => {
    expect(streamSha256(2)).toBeInstanceOf(InlineSha256);
    const threaded = streamSha256(8);
    expect(threaded).toBeInstanceOf(ThreadedSha256);
    await threaded.dispose();
  });
});
