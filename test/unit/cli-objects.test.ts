// `kvmdump ps|lwps|cpus|mounts|modules|bt` on fixture dumps for amd64, i386 and aarch64 with the
// gcc-built debug kernel: the real CLI lists what the fixture laid out; without type information
// it says so and what to supply.

import { describe, expect, it } from 'vitest';
import { buildDumpImage } from '../fixtures/dump-image.ts';
import { defaultObjectsSpec } from '../fixtures/kernel-objects.ts';
import { buildTypesObject, compilerMissing, TYPES_ARCHES } from '../fixtures/kernel-types/build.ts';
import { kvmdump, writeFixture } from '../fixtures/cli.ts';

for (const arch of TYPES_ARCHES) {
  const missing = compilerMissing(arch);
  describe.skipIf(missing !== null)(`kvmdump object commands, ${arch}${missing ? ` (skipped: ${missing})` : ''}`, () => {
    async function setup(spec = defaultObjectsSpec()) {
      const obj = buildTypesObject(arch);
      const img = buildDumpImage({ flavour: arch, seed: 9, objects: { spec, facts: obj.facts, arch } });
      const f = await writeFixture(img, `objects-${arch}`);
      const base = ['--kernel', f.kernel, '--dump', f.dump, '--dump-offset', String(img.facts.dumpOff)];
      return { base, debug: ['--debug', obj.path], img };
    }

    it('ps, lwps, cpus, mounts, modules and bt list exactly what the fixture laid out', async () => {
      const { base, debug } = await setup();
      const spec = defaultObjectsSpec();
      const ps = kvmdump(['ps', ...base, ...debug, '--json']);
      expect(ps.code, ps.stderr).toBe(0);
      expect(ps.json.processes.map((p: { pid: number; ppid: number; comm: string; uid: number }) => [p.pid, p.ppid, p.comm, p.uid])).toEqual(spec.processes.map((p) => [p.pid, p.ppid, p.comm, p.uid]));
      expect(ps.json.end).toEqual({ complete: true });
      const lwps = kvmdump(['lwps', ...base, ...debug, '--json']);
      expect(lwps.json.lwps.map((l: { pid: number; lid: number; wmesg: string }) => `${l.pid}.${l.lid}:${l.wmesg}`)).toEqual(
        spec.processes.flatMap((p) => p.lwps.map((l) => `${p.pid}.${l.lid}:${l.wmesg ?? ''}`)),
      );
      const cpus = kvmdump(['cpus', ...base, ...debug]);
      expect(cpus.code, cpus.stderr).toBe(0);
      expect(cpus.stdout).toMatch(/^\s+1 cpu1 +2 0x[0-9a-f]+ +0x[0-9a-f]+ +412\.1 sh {2}<- panicked$/m);
      const mounts = kvmdump(['mounts', ...base, ...debug]);
      expect(mounts.stdout.trim().split('\n')).toEqual(['/dev/wd0a on / type ffs (flags 0x5000)', 'kernfs on /kern type kernfs (flags 0x1000)', 'tmpfs on /tmp type tmpfs (flags 0x1000)']);
      const modules = kvmdump(['modules', ...base, ...debug, '--json']);
      expect(modules.json.modules.map((m: { name: string; builtin: boolean }) => [m.name, m.builtin])).toEqual([['ffs', true], ['compat_50', true], ['nfs', false]]);
      const bt = kvmdump(['bt', ...base, ...debug]);
      expect(bt.code, bt.stderr).toBe(0);
      const frames = [...bt.stdout.matchAll(/^#\d+ 0x[0-9a-f]+ (\S+)/gm)].map((m) => m[1]);
      expect(frames).toEqual([...(arch === 'aarch64' ? ['dumpsys+0x48'] : []), ...spec.frames.map((f) => `${f.fn}+0x${f.offset.toString(16)}`)]);
    });

    it('a broken allproc ends ps with the reason; without --debug the command says what to supply', async () => {
      const { base, debug } = await setup({ ...defaultObjectsSpec(), breakProcs: { after: 1, how: 'unmapped' } });
      const ps = kvmdump(['ps', ...base, ...debug]);
      expect(ps.code).toBe(0);
      expect(ps.stdout).toMatch(/\(listing ended early: struct proc at 0x[0-9a-f]+: VA 0x[0-9a-f]+ has no translation/);
      const none = kvmdump(['ps', ...base, '--json']);
      expect(none.code).toBe(1);
      expect(none.json.error).toMatch(/^no type information: the kernel file carries no DWARF; give --debug netbsd\.gdb/);
    });
  });
}
