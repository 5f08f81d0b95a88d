// kvm_dump_mkheader (spec 4.6): return values and the exact kvm_geterr() text for every outcome,
// on fixture images, for regular files (mapped), block devices and raw character devices.
import { describe, expect, it } from 'vitest';
import { Kvm } from '../../core/kvm.ts';
import { MemorySource, type SourceKind } from '../../core/source.ts';
import { buildDumpImage, type CorruptKind, type DumpImage } from '../fixtures/dump-image.ts';

const MAX_SIZE_T = '18446744073709551615';

async function open(img: DumpImage, kind: SourceKind = 'file', machine?: 'amd64' | 'i386' | 'i386pae' | 'aarch64') {
  return Kvm.open({ dump: new MemorySource(img.toBytes(), 'dump.img', kind), kernel: new MemorySource(img.kernel), machine });
}

function image(flavour: 'amd64' | 'i386' | 'i386pae' | 'aarch64', corrupt?: CorruptKind) {
  return buildDumpImage({ flavour, seed: 11, corrupt });
}

describe('kvm_dump_mkheader on a valid dump', () => {
  it.each(['amd64', 'i386', 'i386pae', 'aarch64'] as const)('%s: returns H = 512, sets dump_off and the machine', async (flavour) => {
    const img = image(flavour);
    const kd = await open(img);
    expect(await kd.mkheader(img.facts.dumpOff)).toBe(512);
    expect(kd.geterr()).toBe('');
    expect(kd.dumpOff).toBe(img.facts.dumpOff + 512);
    expect(kd.cpuDsize).toBe(flavour === 'aarch64' ? 496 : 504);
    expect(kd.machine!.name).toBe(flavour);
    expect(kd.machine!.segments.map((s) => [s.start, s.size])).toEqual(img.facts.segments.map((s) => [s.start, s.size]));
  });

  it('a second call says "already has a dump header" and returns -1', async () => {
    const img = image('amd64');
    const kd = await open(img);
    await kd.mkheader(img.facts.dumpOff);
    expect(await kd.mkheader(img.facts.dumpOff)).toBe(-1);
    expect(kd.geterr()).toBe('already has a dump header');
    expect(kd.hasHeader).toBe(true); // the first header stays
  });

  it('wrong-flag is accepted: libkvm does not check the flag (spec 9.1)', async () => {
    const img = image('i386', 'wrong-flag');
    expect(await (await open(img)).mkheader(img.facts.dumpOff)).toBe(512);
  });

  it('the same header at a different offset is found only at its own offset', async () => {
    const img = image('amd64');
    const kd = await open(img);
    expect(await kd.mkheader(img.facts.dumpOff - 512)).toBe(0);
    expect(kd.geterr()).toBe('invalid magic in cpu_hdr');
  });
});

describe('kvm_dump_mkheader rejects a header that is not there (returns 0)', () => {
  it.each([
    ['amd64', 'bad-magic'], ['i386', 'bad-magic'], ['aarch64', 'bad-magic'],
    ['amd64', 'wrong-mid'], ['i386', 'wrong-mid'], ['aarch64', 'wrong-mid'],
  ] as const)('%s %s → 0, "invalid magic in cpu_hdr", nothing loaded', async (flavour, corrupt) => {
    const img = image(flavour, corrupt);
    const kd = await open(img);
    expect(await kd.mkheader(img.facts.dumpOff)).toBe(0);
    expect(kd.geterr()).toBe('invalid magic in cpu_hdr');
    expect(kd.hasHeader).toBe(false);
    expect(kd.lastFault).toMatchObject({ offset: expect.any(Number), field: expect.stringMatching(/c_midmag\.(magic|mid)/) });
  });

  it('without a kernel image the MID in the header decides: a wrong x86 MID reads as the other x86', async () => {
    const img = image('amd64', 'wrong-mid');
    const kd = await Kvm.open({ dump: new MemorySource(img.toBytes()) });
    expect(await kd.mkheader(img.facts.dumpOff)).toBe(512);
    expect(kd.machine!.name).toBe('i386');
  });

  it('a dump of another machine is refused when the machine is pinned (MID_MACHINE)', async () => {
    const img = image('amd64');
    const kd = await open(img, 'file', 'aarch64');
    expect(await kd.mkheader(img.facts.dumpOff)).toBe(0);
    expect(kd.geterr()).toBe('invalid magic in cpu_hdr');
    expect(kd.lastFault?.found).toBe('MID_X86_64 (157)');
  });

  it('pinning i386pae accepts an i386 MID and the PAE bit still chooses the walk', async () => {
    const img = image('i386');
    const kd = await open(img, 'file', 'i386pae');
    expect(await kd.mkheader(img.facts.dumpOff)).toBe(512);
    expect(kd.machine!.name).toBe('i386');
  });
});

describe('kvm_dump_mkheader fails on short or broken headers (returns -1)', () => {
  it('truncated segment header in a regular file: the mapped read fails with EINVAL', async () => {
    const img = image('amd64', 'truncated-seg-hdr');
    const kd = await open(img);
    expect(await kd.mkheader(img.facts.dumpOff)).toBe(-1);
    expect(kd.geterr()).toBe(`read 8 bytes at offset ${img.facts.dumpOff.toString(16)} for cpu_hdr failed: Invalid argument`);
  });

  it('truncated segment header on a block device: pread comes back short', async () => {
    const img = image('amd64', 'truncated-seg-hdr');
    const kd = await open(img, 'blockdev');
    expect(await kd.mkheader(img.facts.dumpOff)).toBe(-1);
    expect(kd.geterr()).toBe(`read 4 bytes at offset ${img.facts.dumpOff.toString(16)} for cpu_hdr instead of requested 8`);
  });

  it('truncated segment header on a raw device: the bounce read is short, errno stays 0', async () => {
    const img = image('aarch64', 'truncated-seg-hdr');
    const kd = await open(img, 'chardev');
    expect(kd.fdalign).toBe(512);
    expect(await kd.mkheader(img.facts.dumpOff)).toBe(-1);
    // 8 bytes at an aligned offset are not a multiple of 512: bounce path, rv 4 < 8 → -1 without errno.
    expect(kd.geterr()).toBe(`read 8 bytes at offset ${img.facts.dumpOff.toString(16)} for cpu_hdr failed: Undefined error: 0`);
  });

  it('an empty image cannot be mapped: pread returns 0 bytes', async () => {
    const img = image('amd64', 'empty-image');
    const kd = await open(img);
    expect(await kd.mkheader(img.facts.dumpOff)).toBe(-1);
    expect(kd.geterr()).toBe(`read 0 bytes at offset ${img.facts.dumpOff.toString(16)} for cpu_hdr instead of requested 8`);
  });

  it.each([
    ['truncated-cpu-hdr', 504], ['csize-huge', 0xfffffff0],
  ] as const)('%s: the failed read (-1) is printed as a size_t', async (corrupt, csize) => {
    const img = image('amd64', corrupt);
    const kd = await open(img);
    expect(await kd.mkheader(img.facts.dumpOff)).toBe(-1);
    expect(kd.geterr()).toBe(`size ${MAX_SIZE_T} != cpu_hdr.csize ${csize}`);
    expect(kd.hasHeader).toBe(false);
    expect(kd.cpuDsize).toBe(0);
  });

  it.each(['i386', 'i386pae'] as const)('%s csize-too-large: c_size reaching past EOF; an ILP32 size_t prints -1 as 4294967295', async (flavour) => {
    const img = image(flavour, 'csize-too-large');
    const kd = await open(img);
    expect(await kd.mkheader(img.facts.dumpOff)).toBe(-1);
    const csize = img.size - (img.facts.dumpOff + 8) + 4096;
    expect(kd.geterr()).toBe(`size 4294967295 != cpu_hdr.csize ${csize}`);
  });

  it.each(['i386', 'i386pae'] as const)('%s csize-huge: a c_size an ILP32 process cannot malloc ends in "no cpu_data"', async (flavour) => {
    const img = image(flavour, 'csize-huge');
    const kd = await open(img);
    expect(await kd.mkheader(img.facts.dumpOff)).toBe(-1);
    expect(kd.geterr()).toBe('no cpu_data');
    expect(kd.lastFault).toMatchObject({ field: 'kcore_seg.c_size', found: String(0xfffffff0) });
  });

  it('amd64 csize-too-large: the same read prints -1 as a 64-bit size_t', async () => {
    const img = image('amd64', 'csize-too-large');
    const kd = await open(img);
    expect(await kd.mkheader(img.facts.dumpOff)).toBe(-1);
    expect(kd.geterr()).toBe(`size ${MAX_SIZE_T} != cpu_hdr.csize ${img.size - (img.facts.dumpOff + 8) + 4096}`);
  });

  it('csize-too-large on a block device: the short count is printed', async () => {
    const img = image('i386', 'csize-too-large');
    const kd = await open(img, 'blockdev');
    expect(await kd.mkheader(img.facts.dumpOff)).toBe(-1);
    const avail = img.size - (img.facts.dumpOff + 8);
    expect(kd.geterr()).toBe(`size ${avail} != cpu_hdr.csize ${avail + 4096}`);
  });
});

describe('savecore core files (format B) opened as the dump', () => {
  it('mkheader says "already has a dump header"', async () => {
    const img = image('amd64');
    const kd = await open(img);
    await kd.mkheader(img.facts.dumpOff);
    const chunks: Uint8Array[] = [];
    await kd.wrtheader({ write: async (c) => void chunks.push(c.slice()) }, img.facts.dumpsizePages * 4096);
    const core = new Uint8Array([...chunks.flatMap((c) => [...c]), ...img.toBytes().subarray(img.facts.memOff)]);
    const kc = await Kvm.open({ dump: new MemorySource(core), kernel: new MemorySource(img.kernel) });
    expect(kc.isCoreFile).toBe(true);
    expect(kc.dumpOff).toBe(536);
    expect(await kc.mkheader(0)).toBe(-1);
    expect(kc.geterr()).toBe('already has a dump header');
  });
});
