// `kvmdump ps|lwps|cpus|mounts|modules|bt` on fixture dumps for amd64, i386 and aarch64 with the
// gcc-built debug kernel: the real CLI lists what the fixture laid out; without type information
// it says so and what to supply.

import { describe, expect, it } from 'vitest';
import { buildDumpImage } from '../fixtures/dump-image.ts';
import { defaultObjectsSpec } from '../fixtures/kernel-objects.ts';
import { buildTypesObject, compilerMissing, TYPES_ARCHES } from '../fixtures/kernel-types/build.ts';
import { kvmdump, writeFixture } from '../fixtures/cli.ts';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

    it('report --debug and savecore --debug add the object sections to the report and netbsd.N.report.txt', async () => {
      const { base, debug } = await setup();
      const report = kvmdump(['report', ...base, ...debug]);
      expect(report.code, report.stderr).toBe(0);
      expect(report.stdout).toMatch(/^Processes:\n\s+PID/m);
      expect(report.stdout).toMatch(/^ +412 +1 +1000 +100 SACTIVE +1 .* sh$/m);
      expect(report.stdout).toMatch(/^Stack of the panicking thread:$/m);
      expect(report.stdout).toContain('vpanic+0x16c');
      const json = kvmdump(['report', ...base, ...debug, '--json']).json;
      expect(json.objects.cpus.panicCpu).toMatch(/^0x/);
      expect(json.objects.mounts.mounts.map((m: { mountedOn: string }) => m.mountedOn)).toEqual(['/', '/kern', '/tmp']);
      const out = mkdtempSync(join(tmpdir(), 'kvmdump-objects-savecore-'));
      const dump = base[base.indexOf('--dump') + 1]!;
      const sc = kvmdump(['savecore', '-N', base[1]!, '--dump-offset', base[base.indexOf('--dump-offset') + 1]!, '--now', '1795000000', '--keep', ...debug, out, dump]);
      expect(sc.code, sc.stderr).toBe(0);
      const text = readFileSync(join(out, 'netbsd.0.report.txt'), 'utf8');
      expect(text).toContain('Modules:');
      expect(text).toMatch(/nfs +filesys +0x[0-9a-f]+ +174016/);
      expect(text).toContain('cpu_reboot+0x1b4');
      // The saved core (savecore's format) reads the same: ps from netbsd.0.core with netbsd.0.
      const fromCore = kvmdump(['ps', '--kernel', join(out, 'netbsd.0'), '--dump', join(out, 'netbsd.0.core'), ...debug, '--json']);
      expect(fromCore.code, fromCore.stderr).toBe(0);
      expect(fromCore.json.processes.map((p: { pid: number }) => p.pid)).toEqual(defaultObjectsSpec().processes.map((p) => p.pid));
    });

    it('a broken allproc ends ps with the reason; without --debug the command says what to supply', async () => {
      const { base, debug } = await setup({ ...defaultObjectsSpec(), breakProcs: { after: 1, how: 'unmapped' } });
      const ps = kvmdump(['ps', ...base, ...debug]);
      expect(ps.code).toBe(0);
      expect(ps.stdout).toMatch(/\(listing ended early: struct proc at 0x[0-9a-f]+: (PTE|PDE|L\d|.*level).*not present \(entry 0x0\)/);
      const none = kvmdump(['ps', ...base, '--json']);
      expect(none.code).toBe(1);
      expect(none.json.error).toMatch(/^no type information: the kernel file carries no DWARF; give --debug netbsd\.gdb/);
    });
  });
}
