// Issue 14 item 2: no stale bytes. After the workbench writes to a dump the session reads what is on
// disk now and records the write; a dump changed underneath by someone else is noticed (size,
// modification time), reopened, and said — never a mix of cached and new bytes.

import { openSync, closeSync, writeSync, utimesSync } from 'node:fs';
import { expect, test } from 'vitest';
import { createHandlers } from '../../main/app/handlers.ts';
import { writeDumpFiles } from './helpers/dump-files.ts';

for (const flavour of ['amd64', 'i386pae'] as const) test(`${flavour}: inval: the next read shows zeros, the header records the write and a new generation`, async () => {
  const files = writeDumpFiles({ seed: 91, flavour });
  const handlers = createHandlers({ mode: 'serve', userDataDir: files.dir, allowWrite: true });
  try {
    const o = await handlers.invoke('openDump', { kernelPath: files.kernelPath, dumpPath: files.dumpPath, dumpOffset: files.dumpOffset });
    if (!o.ok) throw new Error(o.error.message);
    const sessionId = o.value.sessionId;
    const dm = files.image.facts.symbols.dumpmag;
    const va = '0x' + dm.va.toString(16);
    expect((await handlers.invoke('read', { sessionId, va, length: 4 })).ok && 'cached').toBe('cached');
    const inv = await handlers.invoke('inval', { sessionId, confirm: true });
    expect(inv.ok && inv.value.result).toBe(0);
    const r = await handlers.invoke('read', { sessionId, va, length: 4 });
    expect(r.ok && r.value.data).toBe('00000000');
    const len = flavour === 'amd64' ? 8 : 4; // sizeof(u_long)
    const h = await handlers.invoke('header', { sessionId });
    if (!h.ok) throw new Error(h.error.message);
    expect(h.value.generation).toBe(1);
    expect(h.value.writes).toEqual([expect.objectContaining({ what: 'kvm_dump_inval', offset: dm.fileOff, length: len })]);
    expect(h.value.changedOnDisk).toBeNull();
  } finally {
    await handlers.shutdown();
    files.cleanup();
  }
});

test('a dump changed by someone else: reopened, said, and reads show the new bytes', async () => {
  const files = writeDumpFiles({ seed: 92 });
  const handlers = createHandlers({ mode: 'serve', userDataDir: files.dir, allowWrite: false });
  try {
    const o = await handlers.invoke('openDump', { kernelPath: files.kernelPath, dumpPath: files.dumpPath, dumpOffset: files.dumpOffset });
    if (!o.ok) throw new Error(o.error.message);
    const sessionId = o.value.sessionId;
    const host = files.image.facts.symbols.hostname;
    const va = '0x' + host.va.toString(16);
    const first = await handlers.invoke('read', { sessionId, va, length: 4 });
    expect(first.ok && first.value.data).toBe(Buffer.from(host.bytes.subarray(0, 4)).toString('hex'));
    // Another program writes into the image.
    const fd = openSync(files.dumpPath, 'r+');
    writeSync(fd, Buffer.from('EVIL'), 0, 4, host.fileOff);
    closeSync(fd);
    utimesSync(files.dumpPath, new Date(), new Date(Date.now() + 5000));
    const again = await handlers.invoke('read', { sessionId, va, length: 4 });
    expect(again.ok && again.value.data).toBe(Buffer.from('EVIL').toString('hex'));
    const h = await handlers.invoke('header', { sessionId });
    if (!h.ok) throw new Error(h.error.message);
    expect(h.value.changedOnDisk).toMatch(/changed on disk since it was opened \(it was modified at .*, not by the workbench\)/);
    expect(h.value.generation).toBe(1);
  } finally {
    await handlers.shutdown();
    files.cleanup();
  }
});
