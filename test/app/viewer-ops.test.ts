// The Memory and Header views' operations (issue 10) on a real fixture dump, through the handlers
// main serves: one address in three spaces gives the same bytes; regions come from the page
// tables and segments; next region skips holes; symbols in place; find as a job; save selection
// never over an existing file and never with a hole; bookmarks kept per dump in the user's data
// directory; the header's bytes with each field's place.

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createHandlers, type Handlers } from '../../main/app/handlers.ts';
import { buildDumpImage, type DumpImage } from '../fixtures/dump-image.ts';
import type { JobEvent } from '../../contract/results.ts';

let dir: string;
let handlers: Handlers;
let sessionId: string;
let img: DumpImage;
const DM = 0xfffffe8000000000n;
const hex = (v: bigint) => `0x${v.toString(16)}`;

function mk() {
  return createHandlers({ mode: 'serve', userDataDir: join(dir, 'userdata'), allowWrite: false, listDevices: async () => ({ platform: 'test', devices: [], note: null }) });
}

async function ok<T>(p: Promise<{ ok: true; value: T } | { ok: false; error: { message: string } }>): Promise<T> {
  const r = await p;
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

beforeAll(async () => {
  img = buildDumpImage({ flavour: 'amd64', seed: 3, memMiB: 64 });
  dir = mkdtempSync(join(tmpdir(), 'kvmdump-viewer-'));
  writeFileSync(join(dir, 'netbsd'), img.kernel);
  writeFileSync(join(dir, 'swap.img'), img.toBytes());
  handlers = mk();
  sessionId = (await ok(handlers.invoke('openDump', { kernelPath: join(dir, 'netbsd'), dumpPath: join(dir, 'swap.img'), dumpOffset: img.facts.dumpOff }))).sessionId;
});

afterAll(async () => {
  await handlers.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

describe('one address, three spaces', () => {
  test('dumpmag: VA → PA → file offset, and the same bytes in each space', async () => {
    const sym = img.facts.symbols.dumpmag!;
    const at = await ok(handlers.invoke('locate', { sessionId, space: 'virtual', address: hex(sym.va) }));
    expect(at).toMatchObject({ virtual: hex(sym.va), physical: hex(sym.pa), file: sym.fileOff, note: null });
    const bytes = [];
    for (const [space, address] of [['virtual', hex(sym.va)], ['physical', hex(sym.pa)], ['file', hex(BigInt(sym.fileOff))]] as const) {
      const r = await ok(handlers.invoke('readMemory', { sessionId, space, address, length: 4 }));
      expect(r.faults).toEqual([]);
      bytes.push(r.data);
    }
    expect(new Set(bytes)).toEqual(new Set(['0101ca8f']));
  });

  test('a PA maps back to its direct-map VA; a file offset to its PA and VA', async () => {
    const pa = img.facts.symbols.dumpmag!.pa;
    expect(await ok(handlers.invoke('locate', { sessionId, space: 'physical', address: hex(pa) })))
      .toMatchObject({ virtual: hex(DM + pa), physical: hex(pa), file: img.facts.symbols.dumpmag!.fileOff });
    expect(await ok(handlers.invoke('locate', { sessionId, space: 'file', address: hex(BigInt(img.facts.symbols.dumpmag!.fileOff)) })))
      .toMatchObject({ virtual: hex(DM + pa), physical: hex(pa) });
  });

  test('a PA in no segment has no file offset, and says why', async () => {
    expect(await ok(handlers.invoke('locate', { sessionId, space: 'physical', address: '0xa0000' })))
      .toMatchObject({ physical: '0xa0000', file: null, note: 'PA 0xa0000 is in no memory segment of the dump' });
    expect(await ok(handlers.invoke('locate', { sessionId, space: 'file', address: '0x10' })))
      .toMatchObject({ physical: null, virtual: null, note: expect.stringMatching(/holds no memory/) });
  });
});

describe('where memory is', () => {
  test('virtual regions from the page tables include the direct map and kernel text; physical regions are the segments', async () => {
    const v = await ok(handlers.invoke('memoryRegions', { sessionId, space: 'virtual' }));
    expect(v.complete).toBe(true);
    expect(v.limit).toBe('0x10000000000000000');
    const holds = (va: bigint) => v.regions.some((r) => BigInt(r.start) <= va && va < BigInt(r.end));
    expect(holds(DM)).toBe(true);
    expect(holds(0xffffffff80200000n)).toBe(true);
    expect(holds(0x1000n)).toBe(false);
    const p = await ok(handlers.invoke('memoryRegions', { sessionId, space: 'physical' }));
    expect(p.regions).toEqual(img.facts.segments.map((s) => ({ start: hex(s.start), end: hex(s.start + s.size) })));
    const f = await ok(handlers.invoke('memoryRegions', { sessionId, space: 'file' }));
    expect(f.regions).toEqual([{ start: '0x0', end: hex(BigInt(img.size)) }]);
  });

  test('next/previous region skip holes, in VA and PA', async () => {
    const next = await ok(handlers.invoke('stepRegion', { sessionId, space: 'virtual', from: '0x1000', direction: 'next' }));
    expect(next.address).not.toBeNull();
    expect(BigInt(next.address!)).toBeGreaterThanOrEqual(0xffff800000000000n);
    expect(await ok(handlers.invoke('stepRegion', { sessionId, space: 'physical', from: '0x1000', direction: 'next' })))
      .toEqual({ address: '0x100000', reason: null });
    expect(await ok(handlers.invoke('stepRegion', { sessionId, space: 'physical', from: '0x100010', direction: 'previous' })))
      .toEqual({ address: '0x0', reason: null });
    expect((await ok(handlers.invoke('stepRegion', { sessionId, space: 'physical', from: '0x10', direction: 'previous' }))).address).toBeNull();
  });
});

test('symbols in place: dumpmag+2 is dumpmag + 0x2; an address in no symbol is null', async () => {
  const sym = img.facts.symbols.dumpmag!;
  const r = await ok(handlers.invoke('symbolsAt', { sessionId, addresses: [hex(sym.va + 2n), '0x1000'] }));
  expect(r.symbols[0]).toMatchObject({ name: 'dumpmag', value: hex(sym.va), offset: '0x2' });
  expect(r.symbols[1]).toBeNull();
});

async function waitJob(jobId: string): Promise<JobEvent> {
  for (;;) {
    const e = await ok(handlers.invoke('jobStatus', { jobId }));
    if (e.state !== 'running') return e;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('find', () => {
  test('the dumpmag value as a hex pattern is found at dumpmag (kernel VA and its direct-map alias) and in PA', async () => {
    const sym = img.facts.symbols.dumpmag!;
    const v = await waitJob((await ok(handlers.invoke('startFind', { sessionId, space: 'virtual', kind: 'hex', text: '01 01 ca 8f' }))).jobId);
    expect(v).toMatchObject({ kind: 'find', state: 'done' });
    expect(v.find!.hits).toEqual(expect.arrayContaining([hex(sym.va), hex(DM + sym.pa)]));
    const p = await waitJob((await ok(handlers.invoke('startFind', { sessionId, space: 'physical', kind: 'hex', text: '01 01 ca 8f' }))).jobId);
    expect(p.find!.hits).toContain(hex(sym.pa));
    for (const h of p.find!.hits.slice(0, 5)) {
      expect((await ok(handlers.invoke('readMemory', { sessionId, space: 'physical', address: h, length: 4 }))).data).toBe('0101ca8f');
    }
  });

  test('a bad pattern is refused before a job starts, saying what is wrong', async () => {
    const r = await handlers.invoke('startFind', { sessionId, space: 'virtual', kind: 'hex', text: 'zz' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toMatch(/'zz' at character 1 is not a byte/);
  });
});

describe('save selection', () => {
  test('writes exactly the bytes to a new file; refuses an existing file and a selection with a hole', async () => {
    const sym = img.facts.symbols.dumpmag!;
    const out = join(dir, 'sel.bin');
    const saved = await ok(handlers.invoke('saveMemory', { sessionId, space: 'virtual', address: hex(sym.va), length: 16, path: out }));
    expect(saved.bytes).toBe(16);
    const mem = await ok(handlers.invoke('readMemory', { sessionId, space: 'virtual', address: hex(sym.va), length: 16 }));
    expect(readFileSync(out).toString('hex')).toBe(mem.data);
    const again = await handlers.invoke('saveMemory', { sessionId, space: 'virtual', address: hex(sym.va), length: 16, path: out });
    expect(again.ok).toBe(false);
    if (!again.ok) expect(again.error.message).toMatch(/already exists/);
    const hole = await handlers.invoke('saveMemory', { sessionId, space: 'physical', address: '0x9e000', length: 0x3000, path: join(dir, 'hole.bin') });
    expect(hole.ok).toBe(false);
    if (!hole.ok) expect(hole.error.message).toMatch(/not saved: 0x9f000 \(\+4096 in the selection\) is unreadable: PA 0x9f000 is in no memory segment/);
    expect(existsSync(join(dir, 'hole.bin'))).toBe(false);
    expect(readdirSync(dir).filter((n) => n.includes('.partial-'))).toEqual([]);
  });
});

describe('bookmarks', () => {
  test('kept per dump in the user data directory, across restarts; exported to a new file only', async () => {
    const b = { space: 'virtual' as const, address: '0xffffffff80200000', name: 'text', note: 'kernel text start', createdAt: '2026-12-04T00:00:00Z' };
    const saved = await ok(handlers.invoke('saveBookmarks', { sessionId, bookmarks: [b] }));
    expect(saved.bookmarks).toEqual([b]);
    expect(readdirSync(join(dir, 'userdata', 'bookmarks'))).toEqual([`${saved.dumpKey}.json`]);
    const other = mk();
    const sid = (await ok(other.invoke('openDump', { kernelPath: join(dir, 'netbsd'), dumpPath: join(dir, 'swap.img'), dumpOffset: img.facts.dumpOff }))).sessionId;
    expect((await ok(other.invoke('listBookmarks', { sessionId: sid }))).bookmarks).toEqual([b]);
    await other.shutdown();
    const out = join(dir, 'bookmarks.json');
    expect(await ok(handlers.invoke('exportBookmarks', { sessionId, path: out }))).toEqual({ path: out, count: 1 });
    expect(JSON.parse(readFileSync(out, 'utf8')).bookmarks).toEqual([b]);
    expect((await handlers.invoke('exportBookmarks', { sessionId, path: out })).ok).toBe(false);
  });
});

test('header bytes: every field points at bytes that decode to its value', async () => {
  const h = await ok(handlers.invoke('headerBytes', { sessionId }));
  expect(h.offset).toBe(img.facts.dumpOff);
  const bytes = Buffer.from(h.data, 'hex');
  const names = h.fields.map((f) => `${f.group}.${f.name}`);
  expect(names.slice(0, 4)).toEqual(['kcore_seg (CPU).c_midmag', 'kcore_seg (CPU).c_size', 'cpu_kcore_hdr.ptdpaddr', 'cpu_kcore_hdr.nmemsegs']);
  expect(names).toContain('phys_ram_seg[1].start');
  const midmag = h.fields[0]!;
  expect(bytes.subarray(midmag.offset, midmag.offset + 4).toString('hex')).toBe(midmag.value.slice(2).padStart(8, '0'));
  const nseg = h.fields.find((f) => f.name === 'nmemsegs')!;
  expect(BigInt(nseg.value)).toBe(BigInt(img.facts.segments.length));
  expect(BigInt(bytes.readBigUInt64LE(nseg.offset))).toBe(BigInt(img.facts.segments.length));
  const seg1 = h.fields.find((f) => f.group === 'phys_ram_seg[1]' && f.name === 'start')!;
  expect(BigInt(seg1.value)).toBe(img.facts.segments[1]!.start);
});
