// Reading initialised data at a virtual address through PT_LOAD (a kernel image's own dumpmag).

import { describe, expect, it } from 'vitest';
import { MemorySource } from '../../core/source.ts';
import { elfVaToFileOffset, readElfVirtual, readLoadSegments } from '../../core/format/elf.ts';
import { buildElfWithLayout, dumpmagBytes, ELF_VARIANTS, SAMPLE_VERSION, sampleAddresses, sampleKernel } from '../fixtures/elf.ts';

const text = (b: Uint8Array | null) => (b ? new TextDecoder().decode(b) : null);

describe.each(ELF_VARIANTS)('$label', (v) => {
  const a = sampleAddresses(v);

  for (const segments of ['per-section', 'merged'] as const) {
    describe(segments, () => {
      const { bytes, layout } = buildElfWithLayout({ ...sampleKernel(v), segments, loadPaOffset: v.base });
      const src = new MemorySource(bytes);
      const data = layout.sections.find((s) => s.name === '.data')!;

      it('reads .data bytes (dumpmag, version)', async () => {
        expect(await readElfVirtual(src, a.dumpmag, 4)).toEqual(dumpmagBytes(v));
        expect(text(await readElfVirtual(src, a.version, SAMPLE_VERSION.length))).toBe(SAMPLE_VERSION);
      });

      it('maps a VA to its file offset; bss has none', async () => {
        expect(await elfVaToFileOffset(src, a.dumpmag)).toBe(data.offset + 0x10);
        expect(await elfVaToFileOffset(src, a.hostname)).toBeNull();
        expect(await elfVaToFileOffset(src, 0x1000n)).toBeNull();
      });

      it('reads .bss as zeros', async () => {
        expect(await readElfVirtual(src, a.hostname, 256)).toEqual(new Uint8Array(256));
      });

      it('returns null for an unmapped VA', async () => {
        expect(await readElfVirtual(src, a.bss + 0x2000n, 1)).toBeNull();
        expect(await readElfVirtual(src, 0n, 4)).toBeNull();
      });

      it('p_paddr is the load PA', async () => {
        const segs = await readLoadSegments(src);
        expect(segs[0]).toMatchObject({ vaddr: a.text, paddr: a.text - v.base, offset: layout.sections[0].offset });
      });
    });
  }

  it('merged: one read across data, the gap up to .bss and .bss (p_memsz > p_filesz)', async () => {
    const src = new MemorySource(buildElfWithLayout({ ...sampleKernel(v), segments: 'merged' }).bytes);
    const segs = await readLoadSegments(src);
    expect(segs).toHaveLength(2);
    expect(segs[1]).toMatchObject({ vaddr: a.data, filesz: 0x100n, memsz: a.bss + 0x2000n - a.data });
    const got = await readElfVirtual(src, a.data + 0xf0n, 0x20);
    expect(got).not.toBeNull();
    expect(got!.subarray(0x10)).toEqual(new Uint8Array(0x10));
  });

  it('per-section: a read running off .data into unmapped space fails', async () => {
    const src = new MemorySource(buildElfWithLayout(sampleKernel(v)).bytes);
    expect(await readElfVirtual(src, a.data + 0xf0n, 0x20)).toBeNull();
  });
});

it('a truncated file makes readElfVirtual return null', async () => {
  const v = ELF_VARIANTS[2];
  const { bytes, layout } = buildElfWithLayout(sampleKernel(v));
  const data = layout.sections.find((s) => s.name === '.data')!;
  const src = new MemorySource(bytes.subarray(0, data.offset + 0x12));
  expect(await readElfVirtual(src, sampleAddresses(v).dumpmag, 4)).toBeNull();
  expect(await readElfVirtual(src, sampleAddresses(v).dumpmag, 2)).toEqual(dumpmagBytes(v).subarray(0, 2));
});
