// kvm_read, _kvm_kvatop/_kvm_pa2off and kvm_dump_inval (spec 4.8, 4.11, 5, 9.6–9.10) on fixture
// dumps: what a reader gets, what an invalidation writes, and the exact error text when they fail.
import { describe, expect, it } from 'vitest';
import { Kvm } from '../../core/kvm.ts';
import { MemorySource, type SourceKind } from '../../core/source.ts';
import { toHex } from '../../core/format/bytes.ts';
import { buildDumpImage, type CorruptKind } from '../fixtures/dump-image.ts';

type Flavour = 'amd64' | 'i386' | 'i386pae' | 'aarch64';
const FLAVOURS: Flavour[] = ['amd64', 'i386', 'i386pae', 'aarch64'];

async function opened(flavour: Flavour, opts: { corrupt?: CorruptKind; kind?: SourceKind; writable?: boolean; kernel?: boolean } = {}) {
  const img = buildDumpImage({ flavour, seed: 9, corrupt: opts.corrupt });
  const dump = new MemorySource(img.toBytes(), 'dump', opts.kind ?? 'file', opts.writable ?? true);
  const kd = await Kvm.open({ dump, kernel: opts.kernel === false ? null : new MemorySource(img.kernel) });
  await kd.mkheader(img.facts.dumpOff);
  return { img, kd, dump };
}

describe('kvm_read', () => {
  it.each(FLAVOURS)('%s: a value straddling a page boundary onto a scattered page reads whole', async (flavour) => {
    const { img, kd } = await opened(flavour);
    const host = img.facts.symbols.hostname;
    const buf = new Uint8Array(256);
    expect(await kd.read(host.va, buf)).toBe(256);
    expect(toHex(buf)).toBe(toHex(host.bytes));
    expect(new TextDecoder().decode(buf.subarray(0, buf.indexOf(0)))).toBe(img.facts.kernelData.strings.hostname);
  });

  it.each(FLAVOURS)('%s: an unmapped page fails with "_kvm_kvatop(<va>)" and -1', async (flavour) => {
    const { kd } = await opened(flavour);
    const va = flavour.startsWith('i386') ? 0xc7000000n : flavour === 'amd64' ? 0xffffffff90000000n : 0xffffc00010000000n;
    expect(await kd.read(va, new Uint8Array(16))).toBe(-1);
    expect(kd.geterr()).toBe(`_kvm_kvatop(${va.toString(16)})`);
  });

  it('a read running off a mapped region into an unmapped page returns -1, losing the partial count (spec 9.9)', async () => {
    const { img, kd } = await opened('amd64');
    const msgbuf = img.facts.kernelData.msgbuf;
    const end = msgbuf.va + 8n * 4096n;
    expect(await kd.read(end - 16n, new Uint8Array(32))).toBe(-1);
    expect(kd.geterr()).toBe(`_kvm_kvatop(${end.toString(16)})`);
  });

  it('a page whose frame is beyond the end of a truncated image: "kvm_read: Invalid argument" and a short count', async () => {
    const { img, kd } = await opened('amd64', { corrupt: 'truncated-image' });
    const msgbuf = img.facts.kernelData.msgbuf; // at the top of RAM: cut off
    expect(await kd.read(msgbuf.va, new Uint8Array(8))).toBe(0);
    expect(kd.geterr()).toBe('kvm_read: Invalid argument');
  });

  it('no header: "no valid dump header"', async () => {
    const img = buildDumpImage({ flavour: 'amd64', seed: 1 });
    const kd = await Kvm.open({ dump: new MemorySource(img.toBytes()), kernel: new MemorySource(img.kernel) });
    expect(await kd.read(img.facts.symbols.dumpmag.va, new Uint8Array(4))).toBe(-1);
    expect(kd.geterr()).toBe('no valid dump header');
  });

  it('i386: kvm_read takes a u_long, so only the low 32 bits of a VA are used', async () => {
    const { img, kd } = await opened('i386');
    const buf = new Uint8Array(4);
    expect(await kd.read(0xffffffff00000000n | img.facts.symbols.dumpmag.va, buf)).toBe(4);
    expect(toHex(buf)).toBe('0101ca8f');
  });
});

describe('translation failures carry libkvm\'s messages', () => {
  it('pte-not-present: "invalid translation (invalid PTE)" on x86, "(invalid pte)" on aarch64', async () => {
    for (const flavour of FLAVOURS) {
      const { img, kd } = await opened(flavour, { corrupt: 'pte-not-present' });
      const tr = await kd.kvatop(img.facts.symbols.dumpmag.va);
      expect([flavour, tr.cc, tr.pa]).toEqual([flavour, 0, 0xffffffffffffffffn]);
      expect(kd.geterr()).toBe(flavour === 'aarch64' ? 'invalid translation (invalid pte)' : 'invalid translation (invalid PTE)');
    }
  });

  it('pt-in-hole: the table is not in the dump, so the mapped read fails with EINVAL', async () => {
    for (const flavour of FLAVOURS) {
      const { img, kd } = await opened(flavour, { corrupt: 'pt-in-hole' });
      expect((await kd.kvatop(img.facts.symbols.dumpmag.va)).cc).toBe(0);
      expect(kd.geterr()).toBe(flavour === 'aarch64' ? 'could not read pte: Invalid argument' : 'could not read PTE: Invalid argument');
    }
  });

  it('tcr-bad-granule: aarch64 translation fails without any message (spec 9.10)', async () => {
    const { img, kd } = await opened('aarch64', { corrupt: 'tcr-bad-granule' });
    expect((await kd.kvatop(img.facts.symbols.dumpmag.va)).cc).toBe(0);
    expect(kd.geterr()).toBe('');
  });

  it('pae-flag-cleared: the 2-level walker reads PAE tables and fails on the PDE', async () => {
    const { img, kd } = await opened('i386pae', { corrupt: 'pae-flag-cleared' });
    expect(kd.machine!.name).toBe('i386');
    expect((await kd.kvatop(img.facts.symbols.dumpmag.va)).cc).toBe(0);
    expect(kd.geterr()).toBe('invalid translation (invalid PDE)');
  });

  it('aarch64 rejects a VA outside the kernel half before reading any table', async () => {
    const { kd } = await opened('aarch64');
    expect((await kd.kvatop(0xfffe000000001000n)).cc).toBe(0);
    expect(kd.geterr()).toBe('invalid kernel virtual address');
  });

  it('zero-segments: every PA resolves to the first memory byte', async () => {
    const { img, kd } = await opened('amd64', { corrupt: 'zero-segments' });
    expect(kd.machine!.segments).toEqual([]);
    expect(kd.pa2off(0x600000n)).toBe(img.facts.memOff);
  });

  it('overlapping segments: the first matching segment wins', async () => {
    const { img, kd } = await opened('amd64', { corrupt: 'overlapping-segments' });
    const buf = new Uint8Array(4);
    expect(await kd.read(img.facts.symbols.dumpmag.va, buf)).toBe(4);
    expect(toHex(buf)).toBe('0101ca8f');
  });
});

describe('kvm_dump_inval', () => {
  it.each(FLAVOURS)('%s: zeroes sizeof(u_long) bytes at dumpmag\'s file offset and nothing else', async (flavour) => {
    const { img, kd, dump } = await opened(flavour);
    const before = dump.contents.slice();
    const dm = img.facts.symbols.dumpmag;
    expect(await kd.inval()).toBe(0);
    const len = img.facts.layout.longSize;
    expect(kd.lastInval).toEqual({ offset: dm.fileOff, length: len });
    const after = dump.contents;
    for (let i = 0; i < after.length; i++) {
      if (i >= dm.fileOff && i < dm.fileOff + len) expect(after[i]).toBe(0);
      else if (after[i] !== before[i]) throw new Error(`byte ${i} changed outside the dumpmag range`);
    }
  });

  it('on a raw character device the whole 512-byte sector is zeroed', async () => {
    const { img, kd, dump } = await opened('amd64', { kind: 'chardev' });
    expect(await kd.inval()).toBe(0);
    const sector = img.facts.symbols.dumpmag.fileOff - (img.facts.symbols.dumpmag.fileOff % 512);
    expect(kd.lastInval).toEqual({ offset: sector, length: 512 });
    expect(dump.contents.subarray(sector, sector + 512).every((b) => b === 0)).toBe(true);
  });

  it('a read-only dump: "cannot invalidate dump - pwrite: Bad file descriptor"', async () => {
    const { kd } = await opened('i386', { writable: false });
    expect(await kd.inval()).toBe(-1);
    expect(kd.geterr()).toBe('cannot invalidate dump - pwrite: Bad file descriptor');
  });

  it('an untranslatable dumpmag: -1 with the walk\'s message', async () => {
    const { kd, dump } = await opened('amd64', { corrupt: 'pte-not-present' });
    const before = dump.contents.slice();
    expect(await kd.inval()).toBe(-1);
    expect(kd.geterr()).toBe('invalid translation (invalid PTE)');
    expect(Buffer.compare(dump.contents, before)).toBe(0); // toEqual on 16 MiB arrays is far too slow
  });

  it('no kernel image: "bad namelist"', async () => {
    const { kd } = await opened('amd64', { kernel: false });
    expect(await kd.inval()).toBe(-1);
    expect(kd.geterr()).toBe('bad namelist');
  });

  it('a kernel without dumpmag: VA 0 is translated (spec 9.6)', async () => {
    const img = buildDumpImage({ flavour: 'amd64', seed: 4 });
    const other = buildDumpImage({ flavour: 'amd64', seed: 4, triage: { omitSymbols: ['dumpmag'] } });
    const kd = await Kvm.open({ dump: new MemorySource(img.toBytes()), kernel: new MemorySource(other.kernel) });
    await kd.mkheader(img.facts.dumpOff);
    expect(await kd.inval()).toBe(-1);
    expect(kd.geterr()).toBe('invalid translation (invalid level 4 PDE)');
  });
});

describe('page-table entries kept by the handle', () => {
  /** A source that counts its reads. */
  function counting(bytes: Uint8Array, kind: SourceKind) {
    const inner = new MemorySource(bytes, 'dump', kind, true);
    const src = {
      name: 'dump', kind, reads: 0,
      get size() { return inner.size; },
      pread: async (buf: Uint8Array, off: number) => { src.reads++; return inner.pread(buf, off); },
      pwrite: (buf: Uint8Array, off: number) => inner.pwrite!(buf, off),
    };
    return src;
  }

  it('a mapped file: the walk\'s entries are read once, the bytes every time; inval forgets the entries', async () => {
    const img = buildDumpImage({ flavour: 'amd64', seed: 9 });
    const dump = counting(img.toBytes(), 'file');
    const kd = await Kvm.open({ dump, kernel: new MemorySource(img.kernel) });
    await kd.mkheader(img.facts.dumpOff);
    const host = img.facts.symbols.hostname;
    const buf = new Uint8Array(8);
    dump.reads = 0;
    expect(await kd.read(host.va, buf)).toBe(8);
    expect(dump.reads).toBe(5); // four levels + the bytes
    dump.reads = 0;
    expect(await kd.read(host.va, buf)).toBe(8);
    expect(toHex(buf)).toBe(toHex(host.bytes.subarray(0, 8)));
    expect(dump.reads).toBe(1);
    expect(await kd.inval()).toBe(0);
    dump.reads = 0;
    expect(await kd.read(host.va, buf)).toBe(8);
    expect(dump.reads).toBe(5);
  });

  it('a character device: every entry goes through _kvm_pread every time', async () => {
    const img = buildDumpImage({ flavour: 'amd64', seed: 9 });
    const dump = counting(img.toBytes(), 'chardev');
    const kd = await Kvm.open({ dump, kernel: new MemorySource(img.kernel) });
    await kd.mkheader(img.facts.dumpOff);
    const buf = new Uint8Array(8);
    await kd.read(img.facts.symbols.hostname.va, buf);
    dump.reads = 0;
    await kd.read(img.facts.symbols.hostname.va, buf);
    expect(dump.reads).toBe(5);
  });
});
