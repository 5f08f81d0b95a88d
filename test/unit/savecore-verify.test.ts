// Read-back verification of a -z core: members inflated in parallel must prove exactly what the
// sequential gunzip proves — the archive decompresses to the header and memory acquired.
import { describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { verifyCore, type VerifyExpectation } from '../../main/jobs/savecore/verify.ts';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const MEMBER_START = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00]);

/** A core of header + memory, gzipped as compress.ts does: one member per chunk. */
function archive(memory: Buffer, chunk: number, level = 1) {
  const header = Buffer.alloc(512, 7);
  const core = Buffer.concat([header, memory]);
  const members: Buffer[] = [];
  for (let off = 0; off < core.length; off += chunk) members.push(gzipSync(core.subarray(off, off + chunk), { level }));
  const file = Buffer.concat(members);
  const exp = (path: string): VerifyExpectation => ({
    path, compressed: true, headerLength: header.length, headerSha256: sha(header),
    memoryLength: memory.length, memorySha256: sha(memory), fileSha256: sha(file), checkFileHash: true,
  });
  return { file, exp };
}

describe('verifyCore on a multi-member gzip core', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kvmdump-verify-'));
  const mixed = Buffer.concat(Array.from({ length: 96 }, (_, i) => (i % 3 === 0 ? randomBytes(1 << 18) : Buffer.alloc(1 << 18, i % 2 ? 0 : 0x41))));

  it('passes an archive of many members (more than one read of 8 MiB), reporting the full length', async () => {
    const { file, exp } = archive(mixed, 1 << 20);
    const path = join(dir, 'ok.gz');
    writeFileSync(path, file);
    const seen: number[] = [];
    const r = await verifyCore(exp(path), { onProgress: (d) => seen.push(d) });
    expect(r).toMatchObject({ ok: true, reason: null, coreLength: 512 + mixed.length, fileSha256Checked: true });
    expect(seen.at(-1)).toBe(512 + mixed.length);
  });

  it('still passes when member-start bytes occur inside compressed data (falls back to reading in order)', async () => {
    // stored blocks (level 0) copy the input: a member-start pattern in the memory appears verbatim mid-member
    // (in the last member, so it is the last start seen and the parallel pass cuts there)
    const trap = Buffer.concat([randomBytes(3 << 20), MEMBER_START, Buffer.from([0x00, 0x03]), randomBytes(100_000)]);
    const { file, exp } = archive(trap, 2 << 20, 0);
    expect(file.lastIndexOf(MEMBER_START)).toBeGreaterThan(file.length - 200_000);
    const path = join(dir, 'trap.gz');
    writeFileSync(path, file);
    expect(await verifyCore(exp(path))).toMatchObject({ ok: true, coreLength: 512 + trap.length });
  });

  it('fails a damaged member, and memory that is not what was acquired, with the reason', async () => {
    const { file, exp } = archive(mixed, 1 << 20);
    const damaged = Buffer.from(file);
    damaged[damaged.length >> 1] ^= 0xff;
    const p1 = join(dir, 'damaged.gz');
    writeFileSync(p1, damaged);
    const r1 = await verifyCore(exp(p1)).catch((e: Error) => ({ ok: false, reason: e.message }));
    expect(r1.ok).toBe(false);

    const other = Buffer.from(mixed);
    other[12345] ^= 1;
    const { file: f2 } = archive(other, 1 << 20);
    const p2 = join(dir, 'other.gz');
    writeFileSync(p2, f2);
    const r2 = await verifyCore({ ...exp(p2), fileSha256: sha(f2) });
    expect(r2).toMatchObject({ ok: false });
    expect(r2.reason).toMatch(/memory data SHA-256 .* differs from the dump's/);
    rmSync(dir, { recursive: true, force: true });
  });
});
