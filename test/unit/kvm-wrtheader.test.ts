// kvm_dump_wrtheader (spec 4.7, worked examples 10.1–10.3): the exact bytes, computed here from the
// spec's layout rather than by the code under test, and every failure path of the writer.
import { describe, expect, it } from 'vitest';
import { Kvm } from '../../core/kvm.ts';
import { IoError } from '../../core/errno.ts';
import { MemorySink, MemorySource, type ByteSink } from '../../core/source.ts';
import { toHex } from '../../core/format/bytes.ts';
import { buildDumpImage } from '../fixtures/dump-image.ts';

type Flavour = 'amd64' | 'i386' | 'i386pae' | 'aarch64';

async function loaded(flavour: Flavour, seed = 5) {
  const img = buildDumpImage({ flavour, seed });
  const kd = await Kvm.open({ dump: new MemorySource(img.toBytes()), kernel: new MemorySource(img.kernel) });
  expect(await kd.mkheader(img.facts.dumpOff)).toBe(512);
  return { img, kd };
}

/** Format B per spec 1.2, written out by hand: generic header, CPU segment, CPU data, DATA segment. */
function expectedHeader(flavour: Flavour, cpuData: Uint8Array, dumpsize: number): Uint8Array {
  const align = flavour === 'aarch64' ? 16 : flavour === 'amd64' ? 8 : 4;
  const up = (x: number) => Math.ceil(x / align) * align;
  const mid = { amd64: 0x9d, i386: 0x86, i386pae: 0x86, aarch64: 0xb7 }[flavour];
  const le32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
  const out: number[] = [0x00, mid, 0x8f, 0xca, up(12) & 0xff, 0, up(8) & 0xff, 0, 2, 0, 0, 0];
  while (out.length < up(12)) out.push(0);
  out.push(0x04, 0x00, 0x8f, 0xac, ...le32(up(cpuData.length)));
  while (out.length < up(12) + up(8)) out.push(0);
  out.push(...cpuData);
  while (out.length < up(12) + up(8) + up(cpuData.length)) out.push(0);
  out.push(0x08, 0x00, 0x8f, 0xac, ...le32(dumpsize >>> 0));
  while (out.length < up(12) + 2 * up(8) + up(cpuData.length)) out.push(0);
  return Uint8Array.from(out);
}

describe('kvm_dump_wrtheader writes the savecore header byte for byte', () => {
  it.each([
    ['amd64', 536], ['i386', 532], ['i386pae', 532], ['aarch64', 544],
  ] as const)('%s: D = %i, identical to the spec layout, for several dumpsize values', async (flavour, d) => {
    const { img, kd } = await loaded(flavour);
    for (const dumpsize of [0, img.facts.dumpsizePages * 4096, 0x7fffffff, -1, -0x80000000]) {
      const sink = new MemorySink();
      expect(await kd.wrtheader(sink, dumpsize)).toBe(d);
      expect(toHex(sink.bytes())).toBe(toHex(expectedHeader(flavour, img.facts.cpuData, dumpsize)));
    }
    expect(kd.geterr()).toBe('');
  });

  it('spec 10.1: the amd64 prefix bytes', async () => {
    const { kd } = await loaded('amd64');
    const sink = new MemorySink();
    await kd.wrtheader(sink, 0x1000);
    const b = sink.bytes();
    expect(toHex(b.subarray(0, 24))).toBe('009d8fca1000080002000000000000000400' + '8facf8010000');
    expect(toHex(b.subarray(528))).toBe('08008fac00100000');
  });

  it('spec 10.3: the aarch64 segment headers are padded to 16 bytes', async () => {
    const { kd } = await loaded('aarch64');
    const sink = new MemorySink();
    await kd.wrtheader(sink, 0x2000);
    const b = sink.bytes();
    expect(toHex(b.subarray(0, 32))).toBe('00b78fca100010000200000000000000' + '04008facf0010000' + '0000000000000000');
    expect(toHex(b.subarray(528))).toBe('08008fac00200000' + '0000000000000000');
  });

  it('writes in order and never needs to seek (each chunk is appended)', async () => {
    const { kd } = await loaded('i386');
    const offsets: number[] = [];
    let total = 0;
    const sink: ByteSink = { write: async (c) => { offsets.push(total); total += c.length; } };
    expect(await kd.wrtheader(sink, 4096)).toBe(total);
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
  });
});

describe('kvm_dump_wrtheader failures', () => {
  it('no header: "no valid dump header(s)"', async () => {
    const img = buildDumpImage({ flavour: 'amd64', seed: 1 });
    const kd = await Kvm.open({ dump: new MemorySource(img.toBytes()), kernel: new MemorySource(img.kernel) });
    expect(await kd.wrtheader(new MemorySink(), 0)).toBe(-1);
    expect(kd.geterr()).toBe('no valid dump header(s)');
  });

  it('a failing first write: "kvm_dump_header: <strerror>"', async () => {
    const { kd } = await loaded('amd64');
    const sink: ByteSink = { write: async () => { throw new IoError('ENOSPC', 'disk full'); } };
    expect(await kd.wrtheader(sink, 0)).toBe(-1);
    expect(kd.geterr()).toBe('kvm_dump_header: No space left on device');
  });

  it('a failure while filling the gap after the generic header: "clear_gap: <strerror>"', async () => {
    const { kd } = await loaded('amd64');
    let writes = 0;
    const sink: ByteSink = { write: async () => { if (++writes === 2) throw Object.assign(new Error('EIO'), { code: 'EIO' }); } };
    expect(await kd.wrtheader(sink, 0)).toBe(-1);
    expect(kd.geterr()).toBe('clear_gap: Input/output error');
  });

  it('i386 has no gap after the 12-byte header, so its second write is the CPU segment header', async () => {
    const { kd } = await loaded('i386');
    let writes = 0;
    const sink: ByteSink = { write: async () => { if (++writes === 2) throw new IoError('EPIPE', 'closed'); } };
    expect(await kd.wrtheader(sink, 0)).toBe(-1);
    expect(kd.geterr()).toBe('kvm_dump_header: Broken pipe');
  });

  it('a CPU segment of size 0 fails: a zero-length fwrite counts as failure (spec 9.18)', async () => {
    const img = buildDumpImage({ flavour: 'amd64', seed: 2 });
    const bytes = img.toBytes();
    new DataView(bytes.buffer).setUint32(img.facts.dumpOff + 4, 0, true);
    const kd = await Kvm.open({ dump: new MemorySource(bytes), kernel: new MemorySource(img.kernel) });
    expect(await kd.mkheader(img.facts.dumpOff)).toBe(8);
    expect(await kd.wrtheader(new MemorySink(), 0)).toBe(-1);
    expect(kd.geterr()).toBe('kvm_dump_header: Undefined error: 0');
  });
});
