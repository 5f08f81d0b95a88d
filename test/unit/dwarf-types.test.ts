// The DWARF reader against a real compiler's output: gcc builds netbsd-types.c (NetBSD 10's
// kernel structures) for amd64, i386 and aarch64 as DWARF 4 and 5; every offsetof/sizeof gcc
// computed must be what the reader finds, and pahole (where installed) must agree on every member
// of every struct. Hostile DWARF ends in a TypeInfoError naming the section and offset.

import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { DwarfTypeInfo, field, loadTypeInfo, resolve, sizeOf, typeName, TypeInfoError, type TypeInfo } from '../../core/types/index.ts';
import { FileSource } from '../fixtures/file-source.ts';
import { buildTypesObject, compilerMissing, TYPES_ARCHES } from '../fixtures/kernel-types/build.ts';

async function typesOf(path: string): Promise<TypeInfo> {
  const src = await FileSource.open(path);
  try {
    return await loadTypeInfo(src);
  } finally {
    await src.close();
  }
}

const pahole = spawnSync('pahole', ['--version'], { encoding: 'utf8' }).status === 0;

for (const arch of TYPES_ARCHES) {
  const missing = compilerMissing(arch);
  for (const version of [4, 5] as const) {
    describe.skipIf(missing !== null)(`DWARF ${version} from gcc, ${arch}${missing ? ` (skipped: ${missing})` : ''}`, () => {
      it("finds every offset and size the compiler computed", async () => {
        const obj = buildTypesObject(arch, version);
        const types = await typesOf(obj.path);
        expect(types.format).toBe(`DWARF ${version}`);
        expect(obj.facts.size).toBeGreaterThan(50);
        for (const [name, fact] of obj.facts) {
          const [structName, ...path] = name.split('.');
          const st = types.struct(structName);
          expect(st, structName).not.toBeNull();
          if (path.length === 0) {
            expect(sizeOf(st!), `sizeof(struct ${structName})`).toBe(fact.size);
          } else {
            const f = field(st!, path.join('.'));
            expect(f, name).not.toBeNull();
            expect({ name, offset: f!.offset, size: f!.size }).toEqual({ name, offset: fact.offset, size: fact.size });
          }
        }
      });

      it('follows typedefs, qualifiers, pointers, arrays, unions, enums and bit-fields', async () => {
        const obj = buildTypesObject(arch, version);
        const types = await typesOf(obj.path);
        const ptr = arch === 'i386' ? 4 : 8;
        // lwp_t → struct lwp; l_cpu is `struct cpu_info *volatile`.
        const lwpT = types.named('lwp_t')!;
        expect(lwpT.kind).toBe('typedef');
        expect(resolve(lwpT)).toMatchObject({ kind: 'struct', name: 'lwp' });
        const lcpu = field(lwpT, 'l_cpu')!;
        expect(lcpu.type.kind).toBe('volatile');
        const p = resolve(lcpu.type);
        expect(p.kind).toBe('pointer');
        if (p.kind === 'pointer') expect(resolve(p.target())).toMatchObject({ kind: 'struct', name: 'cpu_info' });
        // p_comm is char[17]; l_sched is a union; an anonymous TAILQ_ENTRY's fields by path.
        const comm = field(types.struct('proc')!, 'p_comm')!;
        expect(resolve(comm.type)).toMatchObject({ kind: 'array', count: 17 });
        expect(typeName(comm.type)).toBe('char[17]');
        expect(resolve(field(types.struct('lwp')!, 'l_sched')!.type).kind).toBe('union');
        expect(field(types.struct('lwp')!, 'l_sched.timeslice')!.size).toBe(4);
        expect(field(types.struct('module')!, 'mod_chain.tqe_next')!).toMatchObject({ offset: obj.facts.get('module.mod_chain')!.offset, size: ptr });
        // enum mountlist_type and a typedef of a const struct (modinfo_t).
        const me = resolve(field(types.struct('mountlist_entry')!, 'me_type')!.type);
        expect(me).toMatchObject({ kind: 'enum', name: 'mountlist_type' });
        if (me.kind === 'enum') expect(me.values).toEqual([{ name: 'ME_MOUNT', value: 0n }, { name: 'ME_MARKER', value: 1n }]);
        expect(resolve(types.named('modinfo_t')!)).toMatchObject({ kind: 'struct', name: 'modinfo' });
        // Bit-fields: mod_loadflags:8 then mod_arequired:24 share one unsigned int.
        const lf = field(types.struct('module')!, 'mod_loadflags')!;
        const ar = field(types.struct('module')!, 'mod_arequired')!;
        expect(lf.bitSize).toBe(8);
        expect(ar.bitSize).toBe(24);
        expect(ar.offset * 8 + ar.bitOffset! - (lf.offset * 8 + lf.bitOffset!)).toBe(8);
        // Globals and their types.
        expect(typeName(types.variable('cpu_infos')!)).toBe('struct cpu_info * *');
        expect(resolve(types.variable('allproc')!)).toMatchObject({ kind: 'struct', name: 'proclist' });
        expect(types.struct('no_such_struct')).toBeNull();
      });

      it.skipIf(!pahole)(`agrees with pahole on every member of every struct${pahole ? '' : ' (skipped: pahole not installed, Debian package dwarves)'}`, async () => {
        const obj = buildTypesObject(arch, version);
        const types = (await typesOf(obj.path)) as DwarfTypeInfo;
        let checked = 0;
        for (const name of types.structNames()) {
          const out = spawnSync('pahole', ['-C', name, obj.path], { encoding: 'utf8' }).stdout;
          const st = types.struct(name)!;
          const size = /\/\* size: (\d+)/.exec(out);
          if (!size) continue; // an opaque (declared-only) struct
          expect(sizeOf(st), `sizeof ${name}`).toBe(Number(size[1]));
          // Only the outermost members (one tab deep); bit-fields ("name:8;") are checked above.
          for (const m of out.matchAll(/^\t(?!\t)[^/\n]*?[\s*]([A-Za-z_]\w*)(?:\[\d+\])*;\s+\/\*\s+(\d+)\s+(\d+)\s+\*\//gm)) {
            const f = field(st, m[1]);
            expect({ member: `${name}.${m[1]}`, offset: f?.offset, size: f?.size }).toEqual({ member: `${name}.${m[1]}`, offset: Number(m[2]), size: Number(m[3]) });
            checked++;
          }
        }
        expect(checked).toBeGreaterThan(150);
      });
    });
  }
}

// ---- hostile input, hand-made DWARF 4

/** abbrev 1: typedef (name string, type ref4), no children; abbrev 2: compile_unit with children. */
function handMade(dies: (at: number) => number[], opts: { length?: number } = {}): DwarfTypeInfo {
  const abbrev = new Uint8Array([1, 0x16, 0, 0x03, 0x08, 0x49, 0x13, 0, 0, 2, 0x11, 1, 0, 0, 0]);
  const body = [4, 0, 0, 0, 0, 0, 8, 2, ...dies(11), 0]; // version 4, abbrev offset 0, address size 8; CU DIE; children; end
  const info = new Uint8Array(4 + body.length);
  new DataView(info.buffer).setUint32(0, opts.length ?? body.length, true);
  info.set(body, 4);
  return new DwarfTypeInfo({ info, abbrev, littleEndian: true });
}
const u32 = (v: number) => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >>> 24];

describe('hostile DWARF', () => {
  it('a typedef cycle ends in an error, not a hang', () => {
    // typedef a → b at 11+8=19… offsets are unit-relative: DIE 'a' at 12, 'b' at 12 + 7.
    const t = handMade(() => [1, 0x61, 0, ...u32(19), 1, 0x62, 0, ...u32(12)]);
    const a = t.named('a')!;
    expect(() => resolve(a)).toThrow(/cycle/);
  });

  it('64-bit DWARF, a unit past the section end and truncation name the offset', () => {
    expect(() => handMade(() => [], { length: 0xffffffff })).toThrow(/64-bit DWARF is not supported/);
    expect(() => handMade(() => [], { length: 1000 })).toThrow(/\.debug_info offset 0x0: unit length 1000 runs past the end/);
    // A DIE whose ref4 is cut short by the unit's end.
    const cut = handMade(() => [1, 0x61, 0, 0x13]);
    expect(() => cut.named('a')).toThrow(TypeInfoError);
    expect(() => cut.named('a')).toThrow(/\.debug_info offset 0x[0-9a-f]+: truncated/);
  });

  it('a reference outside every unit is refused with the offset', () => {
    const wild = handMade(() => [1, 0x61, 0, ...u32(0x7fffff)]);
    expect(() => resolve(wild.named('a')!)).toThrow(/.debug_info offset 0x7fffff: reference points outside every unit/);
  });

  it('truncated compiler output: every cut of .debug_info gives a result or a TypeInfoError', async () => {
    const missing = compilerMissing('amd64');
    if (missing) return;
    const obj = buildTypesObject('amd64', 5);
    const full = (await typesOf(obj.path)) as DwarfTypeInfo;
    void full;
    const src = await FileSource.open(obj.path);
    const { listSections, readSection } = await import('../../core/format/elf.ts');
    const sections = await listSections(src);
    const info = (await readSection(src, sections, '.debug_info'))!;
    const abbrev = (await readSection(src, sections, '.debug_abbrev'))!;
    const str = await readSection(src, sections, '.debug_str');
    const lineStr = await readSection(src, sections, '.debug_line_str');
    await src.close();
    let errors = 0;
    for (let cut = 0; cut < info.length; cut += 97) {
      try {
        const t = new DwarfTypeInfo({ info: info.subarray(0, cut), abbrev, str, lineStr, littleEndian: true });
        const p = t.struct('proc');
        if (p) for (const m of resolve(p).kind === 'struct' ? (resolve(p) as { members: () => { type: () => unknown }[] }).members() : []) m.type();
      } catch (e) {
        expect(e).toBeInstanceOf(TypeInfoError);
        errors++;
      }
    }
    expect(errors).toBeGreaterThan(0);
  });
});

describe('damaged DWARF from gcc (property)', () => {
  it('random byte damage to .debug_info and .debug_abbrev gives answers or TypeInfoError, never another exception', async () => {
    if (compilerMissing('i386')) return;
    const fc = await import('fast-check');
    const obj = buildTypesObject('i386', 4);
    const src = await FileSource.open(obj.path);
    const { listSections, readSection } = await import('../../core/format/elf.ts');
    const sections = await listSections(src);
    const info = (await readSection(src, sections, '.debug_info'))!;
    const abbrev = (await readSection(src, sections, '.debug_abbrev'))!;
    const str = await readSection(src, sections, '.debug_str');
    const lineStr = await readSection(src, sections, '.debug_line_str');
    await src.close();
    const damage = fc.array(fc.record({ inAbbrev: fc.boolean(), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(damage, (edits) => {
        const i = info.slice();
        const a = abbrev.slice();
        for (const e of edits) (e.inAbbrev ? a : i)[e.at % (e.inAbbrev ? a.length : i.length)] = e.value;
        try {
          const t = new DwarfTypeInfo({ info: i, abbrev: a, str, lineStr, littleEndian: true });
          for (const name of ['proc', 'lwp', 'cpu_info', 'module', 'mount']) {
            const st = t.struct(name);
            if (!st) continue;
            sizeOf(st);
            for (const f of ['p_pid', 'l_lid', 'ci_data.cpu_index', 'mod_chain.tqe_next', 'mnt_stat.f_mntonname']) {
              const x = field(st, f);
              if (x) typeName(x.type);
            }
          }
        } catch (e) {
          if (!(e instanceof TypeInfoError)) throw e;
        }
      }),
      { numRuns: 300, seed: 12 },
    );
  });
});

describe('DWARF 5 string forms', () => {
  it('DW_FORM_strx1 reads names through .debug_str_offsets from the unit\'s DW_AT_str_offsets_base', () => {
    // abbrev 1: base_type (name strx1, byte_size data1); abbrev 2: compile_unit with children (str_offsets_base sec_offset).
    const abbrev = new Uint8Array([1, 0x24, 0, 0x03, 0x25, 0x0b, 0x0b, 0, 0, 2, 0x11, 1, 0x72, 0x17, 0, 0, 0]);
    const body = [5, 0, 1, 8, 0, 0, 0, 0, 2, ...u32(8), 1, 1, 4, 1, 0, 8, 0];
    const info = new Uint8Array([...u32(body.length), ...body]);
    const str = new TextEncoder().encode('\0int\0long\0');
    // .debug_str_offsets: a v5 header (length, version 5, padding), then offsets: index 0 → "long", 1 → "int".
    const strOffsets = new Uint8Array([...u32(12), 5, 0, 0, 0, ...u32(5), ...u32(1)]);
    const t = new DwarfTypeInfo({ info, abbrev, str, strOffsets, littleEndian: true });
    expect(t.format).toBe('DWARF 5');
    expect(t.named('int')).toMatchObject({ kind: 'base', name: 'int', size: 4 });
    expect(t.named('long')).toMatchObject({ kind: 'base', name: 'long', size: 8 });
    // Without the section, the name cannot be had: an error naming where, not a made-up name.
    expect(() => new DwarfTypeInfo({ info, abbrev, str, littleEndian: true }).named('int')).toThrow(/\.debug_info offset 0x[0-9a-f]+: strx form but no \.debug_str_offsets/);
  });
});
