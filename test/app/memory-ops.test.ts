// The app's memory operations read through the strict layers (issue 8): readMemory in the three
// spaces, translate with the full walk, and the Memory view's read — on a dump followed by foreign
// bytes (as on a swap partition), a PA in no segment is a fault, never those bytes.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createHandlers, type Handlers } from '../../main/app/handlers.ts';
import { buildDumpImage, type DumpImage } from '../fixtures/dump-image.ts';

let dir: string;
let handlers: Handlers;
let sessionId: string;
let img: DumpImage;
let dumpBytes: number;

/** The direct map of PA 0xa0000 (the ISA hole, in no segment) on the amd64 fixture. */
const ISA_HOLE_VA = '0xfffffe80000a0000';

beforeAll(async () => {
  img = buildDumpImage({ flavour: 'amd64', seed: 3, memMiB: 64 });
  const bytes = img.toBytes();
  dumpBytes = bytes.length;
  const withTrailer = new Uint8Array(bytes.length + (1 << 20)).fill(0x41);
  withTrailer.set(bytes);
  dir = mkdtempSync(join(tmpdir(), 'kvmdump-memops-'));
  writeFileSync(join(dir, 'netbsd'), img.kernel);
  writeFileSync(join(dir, 'swap.img'), withTrailer);
  handlers = createHandlers({ mode: 'serve', userDataDir: dir, allowWrite: false, listDevices: async () => ({ platform: 'test', devices: [], note: null }) });
  const r = await handlers.invoke('openDump', { kernelPath: join(dir, 'netbsd'), dumpPath: join(dir, 'swap.img'), dumpOffset: img.facts.dumpOff });
  if (!r.ok) throw new Error(r.error.message);
  sessionId = r.value.sessionId;
});

afterAll(async () => {
  await handlers.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

describe('the bug of issue 8 through the app', () => {
  test('read (the Memory view) at the direct map of the ISA hole is a fault, not 41 41', async () => {
    const r = await handlers.invoke('read', { sessionId, va: ISA_HOLE_VA, length: 4096 });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value).toMatchObject({ result: 0, data: '', stop: 'not-in-dump' });
    expect(r.value.fault?.reason).toBe(`VA ${ISA_HOLE_VA} → PA 0xa0000 is in no memory segment of the dump`);
  });

  test('readMemory in the virtual and physical spaces: fault ranges, no foreign byte', async () => {
    for (const [space, address] of [['virtual', ISA_HOLE_VA], ['physical', '0xa0000']] as const) {
      const r = await handlers.invoke('readMemory', { sessionId, space, address, length: 256 });
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(r.value.faults).toEqual([expect.objectContaining({ offset: 0, length: 256, kind: 'outside-segments', address })]);
      expect(r.value.data).not.toContain('41');
    }
  });

  test('kvatop and translate give the PA but no file offset for it', async () => {
    const k = await handlers.invoke('kvatop', { sessionId, va: ISA_HOLE_VA });
    expect(k).toMatchObject({ ok: true, value: { cc: 0x40000000 - 0xa0000, pa: '0xa0000', fileOffset: null } });
    const t = await handlers.invoke('translate', { sessionId, va: ISA_HOLE_VA });
    expect(t).toMatchObject({ ok: true, value: { ok: true, pa: '0xa0000', pageSize: 0x40000000, fileOffset: null, physicalFault: 'PA 0xa0000 is in no memory segment of the dump' } });
  });

  test('the file space reads the bytes after the dump as what they are: file bytes', async () => {
    const r = await handlers.invoke('readMemory', { sessionId, space: 'file', address: `0x${dumpBytes.toString(16)}`, length: 4 });
    expect(r).toMatchObject({ ok: true, value: { data: '41414141', faults: [] } });
    const end = await handlers.invoke('readMemory', { sessionId, space: 'file', address: `0x${(dumpBytes + (1 << 20) - 2).toString(16)}`, length: 4 });
    expect(end).toMatchObject({ ok: true, value: { data: '41410000', faults: [{ offset: 2, length: 2, kind: 'eof' }] } });
  });
});

describe('translate', () => {
  test('a mapped VA: pa, file offset and every level of the walk', async () => {
    const sym = img.facts.symbols.dumpmag;
    const r = await handlers.invoke('translate', { sessionId, va: `0x${sym.va.toString(16)}` });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value).toMatchObject({ ok: true, pa: `0x${sym.pa.toString(16)}`, fileOffset: sym.fileOff, fault: null });
    const slots = img.facts.pageTables.entrySlots(sym.va);
    expect(r.value.walk.map((l) => [l.name, l.entryAddress, l.entry])).toEqual(
      slots.map((s, i) => [['PML4E', 'PDPTE', 'PDE', 'PTE'][i], `0x${s.pa.toString(16)}`, `0x${s.entry.toString(16)}`]),
    );
  });

  test('an unmapped VA: the level it failed at and why', async () => {
    const r = await handlers.invoke('translate', { sessionId, va: '0x1000' });
    expect(r).toMatchObject({ ok: true, value: { ok: false, pa: null, fault: { kind: 'not-present', level: 4, entry: '0x0' } } });
    if (r.ok) expect(r.value.walk).toHaveLength(1);
  });

  test('kvatop of an unmapped VA: libkvm\'s kvm_geterr text, and where the strict walk stopped', async () => {
    const r = await handlers.invoke('kvatop', { sessionId, va: '0x1000' });
    expect(r).toMatchObject({ ok: true, value: { cc: 0, pa: null, fileOffset: null, error: 'invalid translation (invalid level 4 PDE)' } });
    if (r.ok) expect(r.value.fault?.reason).toMatch(/^PML4E \(level 4\) at PA 0x[0-9a-f]+ is not present \(entry 0x0\)$/);
  });

  test('bad arguments are refused before the core', async () => {
    expect(await handlers.call('readMemory', { sessionId, space: 'swap', address: '0x0', length: 4 })).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    expect(await handlers.call('readMemory', { sessionId, space: 'file', address: '0x0', length: (1 << 20) + 1 })).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    expect(await handlers.call('translate', { sessionId, va: 'ffff' })).toMatchObject({ ok: false, error: { code: 'bad-request' } });
  });
});
