// ps, lwps, cpus, mounts, modules and bt on amd64, i386 and aarch64 fixture dumps whose objects
// were laid out at gcc's offsets, read back with the DWARF gcc wrote: exactly what was laid out,
// and a corrupted list pointer or an unmapped struct proc ends the listing with the reason.

import { describe, expect, it } from 'vitest';
import { dumpView } from '../../core/kvm/view.ts';
import { Kvm } from '../../core/kvm/handle.ts';
import { MemorySource } from '../../core/source.ts';
import { loadTypeInfo, type TypeInfo } from '../../core/types/index.ts';
import { listAllLwps, listCpus, listModules, listMounts, listProcesses, objectContext, unwind, unwindPanic, type ObjectContext } from '../../core/objects/index.ts';
import { buildDumpImage } from '../fixtures/dump-image.ts';
import { defaultObjectsSpec, type ObjectsSpec } from '../fixtures/kernel-objects.ts';
import { buildTypesObject, compilerMissing, TYPES_ARCHES, type TypesArch } from '../fixtures/kernel-types/build.ts';
import { readFileSync } from 'node:fs';

const typesCache = new Map<TypesArch, TypeInfo>();
async function types(arch: TypesArch): Promise<TypeInfo> {
  if (!typesCache.has(arch)) typesCache.set(arch, await loadTypeInfo(new MemorySource(readFileSync(buildTypesObject(arch).path))));
  return typesCache.get(arch)!;
}

async function fixture(arch: TypesArch, spec: ObjectsSpec = defaultObjectsSpec()) {
  const obj = buildTypesObject(arch);
  const img = buildDumpImage({ flavour: arch, seed: 5, objects: { spec, facts: obj.facts, arch } });
  const kd = await Kvm.open({ dump: new MemorySource(img.toBytes()), kernel: new MemorySource(img.kernel) });
  expect(await kd.mkheader(img.facts.dumpOff)).toBeGreaterThan(0);
  const ctx: ObjectContext = await objectContext(dumpView(kd), kd.kernelSource, await types(arch));
  return { img, ctx, kd, laid: img.facts.objects! };
}
const hex = (v: bigint) => `0x${v.toString(16)}`;
const stateName: Record<number, string> = { 2: 'SACTIVE' };
const lwpStateName: Record<number, string> = { 2: 'LSRUN', 3: 'LSSLEEP', 7: 'LSONPROC' };

for (const arch of TYPES_ARCHES) {
  const missing = compilerMissing(arch);
  describe.skipIf(missing !== null)(`kernel objects, ${arch}${missing ? ` (skipped: ${missing})` : ''}`, () => {
    it('ps lists every process laid out, in allproc order, with parent, credential and start time', async () => {
      const { ctx, laid } = await fixture(arch);
      const spec = defaultObjectsSpec();
      const ps = await listProcesses(ctx);
      expect(ps.end).toEqual({ complete: true });
      expect(ps.items.map((p) => ({ ...p, problems: p.problems.length }))).toEqual(
        spec.processes.map((p, i) => ({
          address: hex(laid.addresses.procs[i]), pid: p.pid, ppid: p.ppid, comm: p.comm, state: stateName[p.stat], flags: p.flag,
          uid: p.uid, gid: p.gid, start: p.start, nlwps: p.lwps.length, problems: 0,
        })),
      );
    });

    it('lwps lists each process\'s LWPs with state, flags, wait channel and message, CPU and name', async () => {
      const { ctx, laid } = await fixture(arch);
      const spec = defaultObjectsSpec();
      const all = await listAllLwps(ctx);
      expect(all.end).toEqual({ complete: true });
      const expected = spec.processes.flatMap((p) =>
        p.lwps.map((l) => ({
          address: hex(laid.addresses.lwps.get(`${p.pid}.${l.lid}`)!), pid: p.pid, lid: l.lid, state: lwpStateName[l.stat],
          flags: l.flag, wchan: hex(l.wchan ?? 0n), wmesg: l.wmesg ?? '', cpu: l.cpu ?? null,
          cpuAddress: hex(l.cpu === undefined ? 0n : laid.addresses.cpus[l.cpu]), name: l.name ?? '',
        })),
      );
      expect(all.items.map(({ pcb: _pcb, problems, ...rest }) => (expect(problems).toEqual([]), rest))).toEqual(expected);
    });

    it('cpus lists every cpu_info with its current LWP and names the one that panicked', async () => {
      const { ctx, laid } = await fixture(arch);
      const cpus = await listCpus(ctx);
      expect(cpus.end).toEqual({ complete: true });
      expect(cpus.panicCpu).toBe(hex(laid.addresses.cpus[1]));
      expect(cpus.items.map((c) => [c.index, c.name, c.cpuid, c.curlwpPid, c.curlwpLid, c.curlwpDescription, c.panicked])).toEqual([
        [0, 'cpu0', 0, 0, 2, '0.2 system (idle/0)', false],
        [1, 'cpu1', 2, 412, 1, '412.1 sh', true],
      ]);
    });

    it('mounts follows the mountlist_entry shape and skips the marker', async () => {
      const { ctx, laid } = await fixture(arch);
      const m = await listMounts(ctx);
      expect(m.shape).toBe('mountlist_entry');
      expect(m.end).toEqual({ complete: true });
      expect(m.items).toEqual(defaultObjectsSpec().mounts.map((x, i) => ({ address: hex(laid.addresses.mounts[i]), fstype: x.fstype, mountedOn: x.on, mountedFrom: x.from, flags: x.flags })));
    });

    it('mounts follows mnt_list where the debug information has no mountlist_entry (NetBSD 8 and earlier)', async () => {
      const obj = buildTypesObject(arch, 5, 'netbsd8');
      const img = buildDumpImage({ flavour: arch, seed: 6, objects: { spec: defaultObjectsSpec(), facts: obj.facts, arch } });
      const kd = await Kvm.open({ dump: new MemorySource(img.toBytes()), kernel: new MemorySource(img.kernel) });
      expect(await kd.mkheader(img.facts.dumpOff)).toBeGreaterThan(0);
      const types8 = await loadTypeInfo(new MemorySource(readFileSync(obj.path)));
      expect(types8.struct('mountlist_entry')).toBeNull();
      const m = await listMounts(await objectContext(dumpView(kd), kd.kernelSource, types8));
      expect(m.shape).toBe('mnt_list');
      expect(m.end).toEqual({ complete: true });
      expect(m.items.map((x) => [x.address, x.mountedFrom, x.mountedOn, x.fstype])).toEqual(
        defaultObjectsSpec().mounts.map((x, i) => [hex(img.facts.objects!.addresses.mounts[i]), x.from, x.on, x.fstype]),
      );
    });

    it('modules lists built-in and loaded modules with load address and size', async () => {
      const { ctx, laid } = await fixture(arch);
      const m = await listModules(ctx);
      expect(m.end).toEqual({ complete: true });
      expect(m.items.map((x) => [x.name, x.builtin, x.source, x.loadAddress, x.size])).toEqual([
        ['ffs', true, 'kernel', null, null],
        ['compat_50', true, 'kernel', null, null],
        ['nfs', false, 'filesys', hex(laid.addresses.loadAddresses.get('nfs')!), 0x2a7c0],
      ]);
    });

    it('bt unwinds dumppcb\'s frame chain to the fixture\'s frames by symbol', async () => {
      const { ctx } = await fixture(arch);
      const bt = await unwind(ctx);
      const expected = defaultObjectsSpec().frames.map((f) => `${f.fn}+0x${f.offset.toString(16)}`);
      if (arch === 'aarch64') expected.unshift('dumpsys+0x48');
      expect(bt.arch).toBe(arch);
      expect(bt.frames.map((f) => f.symbol)).toEqual(expected);
      expect(bt.stop).toBe('end of the frame chain (frame pointer 0)');
    });

    it('bt from the panicking CPU\'s curlwp PCB gives the same frames, and is used when dumppcb is empty', async () => {
      const { ctx } = await fixture(arch);
      const fromLwp = await unwind(ctx, 'panic-lwp');
      expect(fromLwp.source).toMatch(/^curlwp 0x[0-9a-f]+ PCB \(412\.1 sh\)$/);
      expect(fromLwp.frames).toEqual((await unwind(ctx)).frames);
      const empty = await fixture(arch, { ...defaultObjectsSpec(), emptyDumppcb: true });
      const bt = await unwindPanic(empty.ctx);
      expect(bt.source).toMatch(/^curlwp 0x[0-9a-f]+ PCB \(412\.1 sh\); dumppcb gave no frames \(/);
      expect(bt.frames.map((f) => f.function)).toContain('vpanic');
    });

    it('an allproc link into an unmapped page ends ps there with the reason', async () => {
      const spec = { ...defaultObjectsSpec(), breakProcs: { after: 2, how: 'unmapped' as const } };
      const { ctx, laid, kd } = await fixture(arch, spec);
      const errBefore = kd.geterr();
      const ps = await listProcesses(ctx);
      // The walk's faults are reported here, never left in the libkvm handle's kvm_geterr() buffer.
      expect(kd.geterr()).toBe(errBefore);
      expect(ps.items.map((p) => p.pid)).toEqual([412, 57]);
      expect(ps.end.complete).toBe(false);
      if (!ps.end.complete) {
        expect(ps.end.address).toBe(laid.addresses.brokenAt);
        expect(ps.end.reason).toMatch(new RegExp(`^struct proc at ${hex(laid.addresses.brokenAt!)}: (PTE \\(level 1\\)|L3 \\(level 3\\)) at PA 0x[0-9a-f]+ is not present \\(entry 0x0\\)$`));
      }
    });

    it('an LWP list running into an unmapped page ends that process\'s LWPs only, with the reason', async () => {
      const { ctx } = await fixture(arch, { ...defaultObjectsSpec(), breakLwpsOf: 57 });
      const all = await listAllLwps(ctx);
      expect(all.items.map((l) => `${l.pid}.${l.lid}`)).toEqual(['412.1', '57.2', '1.1', '0.3', '0.2', '0.1']);
      expect(all.end.complete).toBe(false);
      if (!all.end.complete) expect(all.end.reason).toMatch(/^the LWPs of pid 57 end early: struct lwp at 0x[0-9a-f]+: (PTE \(level 1\)|L3 \(level 3\)) at PA 0x[0-9a-f]+ is not present \(entry 0x0\)$/);
    });

    it('an allproc link back to the first process ends ps with the loop named', async () => {
      const spec = { ...defaultObjectsSpec(), breakProcs: { after: 3, how: 'loop' as const } };
      const { ctx, laid } = await fixture(arch, spec);
      const ps = await listProcesses(ctx);
      expect(ps.items.map((p) => p.pid)).toEqual([412, 57, 1]);
      expect(ps.end).toEqual({ complete: false, reason: `the list loops back to ${hex(laid.addresses.procs[0])}`, address: laid.addresses.procs[0] });
    });
  });
}
