// A DWARF 4/5 reader for type information (.debug_info, .debug_abbrev, .debug_str,
// .debug_line_str, .debug_str_offsets). Lazy: the first question indexes the names of the
// top-level DIEs of every unit; a type is decoded only when asked for, and cached by offset.
// Bounded: every read is checked against its section (TypeInfoError names section and offset),
// nesting and chains are capped, 64-bit DWARF is refused.

import { TypeInfoError, MAX_TYPE_SIZE, type KernelType, type Member, type TypeInfo } from './api.ts';
import { utf8Decode } from '../format/utf8.ts';
import { DW_AT, DW_ATE, DW_FORM, DW_OP_plus_uconst, DW_TAG } from './dwarf-constants.ts';

export interface DwarfSections {
  info: Uint8Array;
  abbrev: Uint8Array;
  str?: Uint8Array | null;
  lineStr?: Uint8Array | null;
  strOffsets?: Uint8Array | null;
  littleEndian: boolean;
}

/** Deepest DIE nesting believed (C types nest a few levels; hostile input may not). */
const MAX_DEPTH = 256;
/** Most members, enumerators or subranges read under one DIE. */
const MAX_CHILDREN = 1 << 16;

type AttrValue =
  | { k: 'num'; v: number; signed?: boolean }
  | { k: 'big'; v: bigint }
  | { k: 'str'; v: string }
  | { k: 'ref'; v: number }
  | { k: 'block'; v: Uint8Array }
  | { k: 'flag'; v: boolean }
  | { k: 'none' };

interface AbbrevAttr {
  at: number;
  form: number;
  implicit?: bigint;
}
interface Abbrev {
  tag: number;
  children: boolean;
  attrs: AbbrevAttr[];
}

interface Unit {
  offset: number;
  /** First byte after the unit. */
  end: number;
  version: number;
  addressSize: number;
  abbrevs: Map<number, Abbrev>;
  /** Offset of the first DIE (the unit DIE). */
  dieOffset: number;
  strOffsetsBase: number;
}

interface Die {
  offset: number;
  tag: number;
  children: boolean;
  attrs: Map<number, AttrValue>;
  /** Offset of the next DIE in the stream (first child when children is true). */
  next: number;
  unit: Unit;
}

/** A bounds-checked reader over one section. */
class Cursor {
  private dv: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly section: string,
    public pos: number,
    readonly le: boolean,
    readonly limit = bytes.length,
  ) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  fail(reason: string, at = this.pos): never {
    throw new TypeInfoError(reason, this.section, at);
  }
  need(n: number): void {
    if (n < 0 || this.pos + n > this.limit) this.fail(`truncated: ${n} bytes needed, ${Math.max(0, this.limit - this.pos)} left`);
  }
  u8(): number {
    this.need(1);
    return this.dv.getUint8(this.pos++);
  }
  u16(): number {
    this.need(2);
    const v = this.dv.getUint16(this.pos, this.le);
    this.pos += 2;
    return v;
  }
  u24(): number {
    this.need(3);
    const b = this.bytes;
    const p = this.pos;
    this.pos += 3;
    return this.le ? b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) : (b[p] << 16) | (b[p + 1] << 8) | b[p + 2];
  }
  u32(): number {
    this.need(4);
    const v = this.dv.getUint32(this.pos, this.le);
    this.pos += 4;
    return v;
  }
  u64(): bigint {
    this.need(8);
    const v = this.dv.getBigUint64(this.pos, this.le);
    this.pos += 8;
    return v;
  }
  uleb(): bigint {
    return this.leb128(false);
  }
  sleb(): bigint {
    return this.leb128(true);
  }
  /** LEB128: 7 bits per byte, low first; a signed one extends its last byte's bit 6. */
  private leb128(signed: boolean): bigint {
    let result = 0n;
    let shift = 0n;
    const start = this.pos;
    for (;;) {
      if (shift > 70n) this.fail('LEB128 longer than 10 bytes', start);
      const b = this.u8();
      result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if ((b & 0x80) === 0) return signed && b & 0x40 ? result - (1n << shift) : result;
    }
  }
  /** A ULEB128 that must fit a JS number (offsets, counts, codes). */
  ulebNum(what: string): number {
    const at = this.pos;
    const v = this.uleb();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what} ${v} is too large`, at);
    return Number(v);
  }
  bytesOf(n: number): Uint8Array {
    this.need(n);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  cstring(): string {
    const end = this.bytes.indexOf(0, this.pos);
    if (end < 0 || end >= this.limit) this.fail('unterminated string');
    const s = decodeLatin1Utf8(this.bytes.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  }
}

function decodeLatin1Utf8(b: Uint8Array): string {
  return utf8Decode(b);
}

function stringAt(section: Uint8Array | null | undefined, name: string, off: number, at: { section: string; offset: number }): string {
  if (!section) throw new TypeInfoError(`string form refers to ${name}, which is absent`, at.section, at.offset);
  if (off >= section.length) throw new TypeInfoError(`string offset 0x${off.toString(16)} is past the end of ${name} (${section.length} bytes)`, at.section, at.offset);
  const c = new Cursor(section, name, off, true);
  return c.cstring();
}

export class DwarfTypeInfo implements TypeInfo {
  readonly format: string;
  private units: Unit[] | null = null;
  private abbrevCache = new Map<number, Map<number, Abbrev>>();
  private index: Map<string, number[]> | null = null;
  private types = new Map<number, KernelType>();

  constructor(private readonly s: DwarfSections) {
    const versions = new Set(this.allUnits().map((u) => u.version));
    this.format = versions.size === 0 ? 'DWARF (no units)' : `DWARF ${[...versions].sort().join('/')}`;
  }

  // ----- units and abbreviations

  private allUnits(): Unit[] {
    if (this.units) return this.units;
    const units: Unit[] = [];
    const info = this.s.info;
    let off = 0;
    while (off < info.length) {
      const c = new Cursor(info, '.debug_info', off, this.s.littleEndian);
      const length = c.u32();
      if (length >= 0xfffffff0) {
        c.fail(length === 0xffffffff ? '64-bit DWARF is not supported (32-bit DWARF only)' : `reserved unit length 0x${length.toString(16)}`, off);
      }
      const end = c.pos + length;
      if (end > info.length) c.fail(`unit length ${length} runs past the end of .debug_info (${info.length} bytes)`, off);
      const inner = new Cursor(info, '.debug_info', c.pos, this.s.littleEndian, end);
      const version = inner.u16();
      let abbrevOffset = 0;
      let addressSize = 0;
      if (version === 5) {
        const unitType = inner.u8();
        addressSize = inner.u8();
        abbrevOffset = inner.u32();
        if (unitType === 2 || unitType === 6) inner.bytesOf(8 + 4); // type signature + type offset
        else if (unitType === 4 || unitType === 5) inner.bytesOf(8); // dwo id
        else if (unitType !== 1 && unitType !== 3) inner.fail(`unknown unit type ${unitType}`, off);
      } else if (version >= 2 && version <= 4) {
        abbrevOffset = inner.u32();
        addressSize = inner.u8();
      } else {
        inner.fail(`DWARF version ${version} is not supported (2–5)`, off);
      }
      if (addressSize !== 4 && addressSize !== 8) inner.fail(`address size ${addressSize} is neither 4 nor 8`, off);
      const unit: Unit = {
        offset: off,
        end,
        version,
        addressSize,
        abbrevs: this.abbrevTable(abbrevOffset),
        dieOffset: inner.pos,
        strOffsetsBase: 8,
      };
      // DW_AT_str_offsets_base lives on the unit DIE; strx forms before it is known use the default.
      if (inner.pos < end) {
        const top = this.readDie(unit, inner.pos);
        const base = top?.attrs.get(DW_AT.str_offsets_base);
        if (base && base.k === 'num') unit.strOffsetsBase = base.v;
      }
      units.push(unit);
      off = end;
    }
    this.units = units;
    return units;
  }

  private abbrevTable(offset: number): Map<number, Abbrev> {
    const cached = this.abbrevCache.get(offset);
    if (cached) return cached;
    const table = new Map<number, Abbrev>();
    const c = new Cursor(this.s.abbrev, '.debug_abbrev', offset, this.s.littleEndian);
    if (offset >= this.s.abbrev.length) c.fail(`abbreviation table offset is past the end (${this.s.abbrev.length} bytes)`);
    for (;;) {
      const at = c.pos;
      const code = c.ulebNum('abbreviation code');
      if (code === 0) break;
      const tag = c.ulebNum('tag');
      const children = c.u8() !== 0;
      const attrs: AbbrevAttr[] = [];
      for (;;) {
        const name = c.ulebNum('attribute');
        const form = c.ulebNum('form');
        if (name === 0 && form === 0) break;
        const a: AbbrevAttr = { at: name, form };
        if (form === DW_FORM.implicit_const) a.implicit = c.sleb();
        attrs.push(a);
        if (attrs.length > 4096) c.fail('more than 4096 attributes in one abbreviation', at);
      }
      table.set(code, { tag, children, attrs });
    }
    this.abbrevCache.set(offset, table);
    return table;
  }

  private unitOf(offset: number): Unit {
    const units = this.allUnits();
    let lo = 0;
    let hi = units.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const u = units[mid];
      if (offset < u.offset) hi = mid - 1;
      else if (offset >= u.end) lo = mid + 1;
      else return u;
    }
    throw new TypeInfoError('reference points outside every unit', '.debug_info', offset);
  }

  // ----- DIEs

  /** The DIE at offset, or null for a null entry (end of a sibling list). */
  private readDie(unit: Unit, offset: number): Die | null {
    const c = new Cursor(this.s.info, '.debug_info', offset, this.s.littleEndian, unit.end);
    const code = c.ulebNum('abbreviation code');
    if (code === 0) return { offset, tag: 0, children: false, attrs: new Map(), next: c.pos, unit } as Die & { tag: 0 };
    const ab = unit.abbrevs.get(code);
    if (!ab) return c.fail(`abbreviation code ${code} is not in the unit's table`, offset);
    const attrs = new Map<number, AttrValue>();
    for (const a of ab.attrs) {
      const v = this.readForm(c, unit, a.form, a.implicit, 0);
      attrs.set(a.at, v);
    }
    return { offset, tag: ab.tag, children: ab.children, attrs, next: c.pos, unit };
  }

  private readForm(c: Cursor, unit: Unit, form: number, implicit: bigint | undefined, depth: number): AttrValue {
    const at = { section: '.debug_info', offset: c.pos };
    const le = this.s.littleEndian;
    const offsetValue = (v: number): AttrValue => ({ k: 'num', v });
    switch (form) {
      case DW_FORM.addr:
        return unit.addressSize === 8 ? { k: 'big', v: c.u64() } : { k: 'big', v: BigInt(c.u32()) };
      case DW_FORM.data1:
      case DW_FORM.ref1:
      case DW_FORM.flag:
      case DW_FORM.strx1:
      case DW_FORM.addrx1: {
        const v = c.u8();
        return this.classify(form, v, unit, at);
      }
      case DW_FORM.data2:
      case DW_FORM.ref2:
      case DW_FORM.strx2:
      case DW_FORM.addrx2:
        return this.classify(form, c.u16(), unit, at);
      case DW_FORM.strx3:
      case DW_FORM.addrx3:
        return this.classify(form, c.u24(), unit, at);
      case DW_FORM.data4:
      case DW_FORM.ref4:
      case DW_FORM.strx4:
      case DW_FORM.addrx4:
      case DW_FORM.ref_sup4:
        return this.classify(form, c.u32(), unit, at);
      case DW_FORM.data8: {
        const v = c.u64();
        return v <= BigInt(Number.MAX_SAFE_INTEGER) ? { k: 'num', v: Number(v) } : { k: 'big', v };
      }
      case DW_FORM.ref8:
      case DW_FORM.ref_sig8:
      case DW_FORM.ref_sup8:
        c.u64();
        return { k: 'none' }; // type units and supplementary files are not followed
      case DW_FORM.data16:
        return { k: 'block', v: c.bytesOf(16) };
      case DW_FORM.sdata: {
        const v = c.sleb();
        return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? { k: 'num', v: Number(v), signed: true } : { k: 'big', v };
      }
      case DW_FORM.udata: {
        const v = c.uleb();
        return v <= BigInt(Number.MAX_SAFE_INTEGER) ? { k: 'num', v: Number(v) } : { k: 'big', v };
      }
      case DW_FORM.ref_udata:
        return this.classify(form, c.ulebNum('reference'), unit, at);
      case DW_FORM.strx:
      case DW_FORM.addrx:
      case DW_FORM.loclistx:
      case DW_FORM.rnglistx:
        return this.classify(form, c.ulebNum('index'), unit, at);
      case DW_FORM.string:
        return { k: 'str', v: c.cstring() };
      case DW_FORM.strp:
        return { k: 'str', v: stringAt(this.s.str, '.debug_str', c.u32(), at) };
      case DW_FORM.line_strp:
        return { k: 'str', v: stringAt(this.s.lineStr, '.debug_line_str', c.u32(), at) };
      case DW_FORM.GNU_strp_alt:
      case DW_FORM.strp_sup:
        c.u32();
        return { k: 'none' };
      case DW_FORM.ref_addr:
        // DWARF 2 used the address size here; 3 and later the offset size (4 in 32-bit DWARF).
        return { k: 'ref', v: unit.version === 2 && unit.addressSize === 8 ? Number(c.u64()) : c.u32() };
      case DW_FORM.GNU_ref_alt:
        c.u32();
        return { k: 'none' };
      case DW_FORM.sec_offset:
        return offsetValue(c.u32());
      case DW_FORM.exprloc:
      case DW_FORM.block:
        return { k: 'block', v: c.bytesOf(c.ulebNum('block length')) };
      case DW_FORM.block1:
        return { k: 'block', v: c.bytesOf(c.u8()) };
      case DW_FORM.block2:
        return { k: 'block', v: c.bytesOf(c.u16()) };
      case DW_FORM.block4:
        return { k: 'block', v: c.bytesOf(c.u32()) };
      case DW_FORM.flag_present:
        return { k: 'flag', v: true };
      case DW_FORM.implicit_const: {
        const v = implicit ?? 0n;
        return { k: 'num', v: Number(v), signed: true };
      }
      case DW_FORM.indirect: {
        if (depth > 4) c.fail('DW_FORM_indirect chain');
        return this.readForm(c, unit, c.ulebNum('form'), implicit, depth + 1);
      }
      default:
        void le;
        return c.fail(`unknown attribute form 0x${form.toString(16)}`, at.offset);
    }
  }

  private classify(form: number, v: number, unit: Unit, at: { section: string; offset: number }): AttrValue {
    switch (form) {
      case DW_FORM.ref1:
      case DW_FORM.ref2:
      case DW_FORM.ref4:
      case DW_FORM.ref_udata:
        return { k: 'ref', v: unit.offset + v };
      case DW_FORM.flag:
        return { k: 'flag', v: v !== 0 };
      case DW_FORM.strx:
      case DW_FORM.strx1:
      case DW_FORM.strx2:
      case DW_FORM.strx3:
      case DW_FORM.strx4: {
        const so = this.s.strOffsets;
        if (!so) throw new TypeInfoError('strx form but no .debug_str_offsets', at.section, at.offset);
        const pos = unit.strOffsetsBase + v * 4;
        if (pos + 4 > so.length) throw new TypeInfoError(`string index ${v} is past the end of .debug_str_offsets`, at.section, at.offset);
        const off = new DataView(so.buffer, so.byteOffset, so.byteLength).getUint32(pos, this.s.littleEndian);
        return { k: 'str', v: stringAt(this.s.str, '.debug_str', off, at) };
      }
      case DW_FORM.ref_sup4:
        return { k: 'none' };
      default:
        return { k: 'num', v };
    }
  }

  /** Walk the direct children of a DIE that has children; calls fn for each. */
  private children(die: Die, fn: (child: Die) => void): void {
    if (!die.children) return;
    let off = die.next;
    let count = 0;
    for (;;) {
      const child = this.readDie(die.unit, off);
      if (!child || child.tag === 0) return;
      if (++count > MAX_CHILDREN) throw new TypeInfoError(`more than ${MAX_CHILDREN} children`, '.debug_info', die.offset);
      fn(child);
      off = this.skipSubtree(child);
    }
  }

  /** Offset after the DIE and all its descendants. */
  private skipSubtree(die: Die): number {
    if (!die.children) return die.next;
    const sib = die.attrs.get(DW_AT.sibling);
    if (sib && sib.k === 'ref' && sib.v > die.offset && sib.v <= die.unit.end) return sib.v;
    let off = die.next;
    let depth = 1;
    while (depth > 0) {
      if (off >= die.unit.end) throw new TypeInfoError('children run past the end of the unit', '.debug_info', die.offset);
      const d = this.readDie(die.unit, off);
      if (!d) throw new TypeInfoError('unreadable DIE', '.debug_info', off);
      if (d.tag === 0) depth--;
      else if (d.children) {
        depth++;
        if (depth > MAX_DEPTH) throw new TypeInfoError(`DIEs nest deeper than ${MAX_DEPTH}`, '.debug_info', off);
      }
      off = d.next;
    }
    return off;
  }

  // ----- the name index

  private names(): Map<string, number[]> {
    if (this.index) return this.index;
    const index = new Map<string, number[]>();
    for (const unit of this.allUnits()) {
      if (unit.dieOffset >= unit.end) continue;
      const top = this.readDie(unit, unit.dieOffset);
      if (!top || top.tag === 0) continue;
      this.children(top, (d) => {
        const name = d.attrs.get(DW_AT.name);
        if (!name || name.k !== 'str') return;
        const key = keyFor(d.tag, name.v);
        if (!key) return;
        const list = index.get(key);
        if (list) list.push(d.offset);
        else index.set(key, [d.offset]);
      });
    }
    this.index = index;
    return index;
  }

  private firstDefinition(key: string): number | null {
    const offs = this.names().get(key);
    if (!offs) return null;
    for (const off of offs) {
      const d = this.readDie(this.unitOf(off), off);
      const decl = d?.attrs.get(DW_AT.declaration);
      if (!(decl && decl.k === 'flag' && decl.v)) return off;
    }
    return offs[0];
  }

  struct(name: string): KernelType | null {
    for (const k of ['struct', 'union']) {
      const off = this.firstDefinition(`${k} ${name}`);
      if (off !== null) return this.typeAt(off);
    }
    return null;
  }

  named(name: string): KernelType | null {
    for (const k of ['typedef', 'struct', 'union', 'enum', 'base']) {
      const off = this.firstDefinition(`${k} ${name}`);
      if (off !== null) return this.typeAt(off);
    }
    return null;
  }

  variable(name: string): KernelType | null {
    const off = this.firstDefinition(`variable ${name}`);
    if (off === null) return null;
    const d = this.readDie(this.unitOf(off), off);
    return d ? this.typeRef(d) : null;
  }

  /** Every struct name with a definition (for cross-checks). */
  structNames(): string[] {
    const out: string[] = [];
    for (const key of this.names().keys()) if (key.startsWith('struct ')) out.push(key.slice(7));
    return out;
  }

  // ----- types

  private typeRef(d: Die): KernelType {
    const t = d.attrs.get(DW_AT.type);
    if (!t) return { kind: 'void' };
    if (t.k !== 'ref') return { kind: 'void' }; // a type unit or supplementary file: not followed
    return this.typeAt(t.v);
  }

  private typeAt(offset: number): KernelType {
    const cached = this.types.get(offset);
    if (cached) return cached;
    const unit = this.unitOf(offset);
    const d = this.readDie(unit, offset);
    if (!d || d.tag === 0) throw new TypeInfoError('type reference points at a null entry', '.debug_info', offset);
    const t = this.decode(d);
    this.types.set(offset, t);
    return t;
  }

  private decode(d: Die): KernelType {
    const name = strAttr(d, DW_AT.name);
    const size = numAttr(d, DW_AT.byte_size);
    if (size !== null && (size < 0 || size > MAX_TYPE_SIZE)) {
      throw new TypeInfoError(`byte size ${size} is not believable`, '.debug_info', d.offset);
    }
    const target = (): KernelType => this.typeRef(d);
    switch (d.tag) {
      case DW_TAG.base_type:
        return { kind: 'base', name: name ?? '?', size: size ?? 0, encoding: encodingOf(numAttr(d, 0x3e)) };
      case DW_TAG.pointer_type:
        return { kind: 'pointer', size: size ?? d.unit.addressSize, target };
      case DW_TAG.typedef:
        return { kind: 'typedef', name: name ?? '?', target };
      case DW_TAG.const_type:
        return { kind: 'const', target };
      case DW_TAG.volatile_type:
        return { kind: 'volatile', target };
      case DW_TAG.restrict_type:
        return { kind: 'restrict', target };
      case DW_TAG.atomic_type:
        return { kind: 'atomic', target };
      case DW_TAG.subroutine_type:
      case DW_TAG.subprogram:
        return { kind: 'function', name };
      case DW_TAG.structure_type:
      case DW_TAG.union_type: {
        let members: Member[] | null = null;
        const declaration = flagAttr(d, DW_AT.declaration);
        return {
          kind: d.tag === DW_TAG.structure_type ? 'struct' : 'union',
          name,
          size: declaration ? null : size,
          declaration,
          members: () => (members ??= this.members(d)),
        };
      }
      case DW_TAG.enumeration_type: {
        const values: { name: string; value: bigint }[] = [];
        this.children(d, (c) => {
          if (c.tag !== DW_TAG.enumerator) return;
          const v = c.attrs.get(DW_AT.const_value);
          const value = v?.k === 'num' ? BigInt(v.v) : v?.k === 'big' ? v.v : 0n;
          values.push({ name: strAttr(c, DW_AT.name) ?? '?', value });
        });
        return { kind: 'enum', name, size: size ?? 4, values };
      }
      case DW_TAG.array_type: {
        const counts: (number | null)[] = [];
        this.children(d, (c) => {
          if (c.tag !== DW_TAG.subrange_type) return;
          const count = numAttr(c, DW_AT.count);
          const upper = numAttr(c, DW_AT.upper_bound);
          const n = count ?? (upper !== null ? upper + 1 : null);
          if (n !== null && (n < 0 || n > MAX_TYPE_SIZE)) throw new TypeInfoError(`array bound ${n} is not believable`, '.debug_info', c.offset);
          counts.push(n);
        });
        // int a[2][3] is one DIE with two subranges: an array of arrays, innermost last.
        let t: KernelType | null = null;
        for (let i = counts.length - 1; i >= 0; i--) {
          const inner: KernelType | null = t;
          t = { kind: 'array', count: counts[i], element: inner ? () => inner : target };
        }
        return t ?? { kind: 'array', count: null, element: target };
      }
      default:
        return { kind: 'void' };
    }
  }

  private members(d: Die): Member[] {
    const out: Member[] = [];
    const structSize = numAttr(d, DW_AT.byte_size);
    this.children(d, (c) => {
      if (c.tag !== DW_TAG.member) return;
      const loc = c.attrs.get(DW_AT.data_member_location);
      let offset = 0;
      if (loc?.k === 'num') offset = loc.v;
      else if (loc?.k === 'block') offset = plusUconst(loc.v, c.offset);
      const m: Member = { name: strAttr(c, DW_AT.name), offset, type: () => this.typeRef(c) };
      const bitSize = numAttr(c, DW_AT.bit_size);
      if (bitSize !== null) {
        const dataBit = numAttr(c, DW_AT.data_bit_offset);
        if (dataBit !== null) {
          m.offset = Math.floor(dataBit / 8);
          m.bitOffset = dataBit % 8;
        } else {
          // DWARF 2/3 style: DW_AT_bit_offset counts from the storage unit's most significant bit.
          const oldBit = numAttr(c, DW_AT.bit_offset) ?? 0;
          const storage = numAttr(c, DW_AT.byte_size) ?? 4;
          const fromLow = this.s.littleEndian ? storage * 8 - oldBit - bitSize : oldBit;
          m.offset = offset + Math.floor(fromLow / 8);
          m.bitOffset = fromLow % 8;
        }
        m.bitSize = bitSize;
      }
      if (structSize !== null && m.offset > structSize) {
        throw new TypeInfoError(`member offset ${m.offset} is past the end of its ${structSize}-byte type`, '.debug_info', c.offset);
      }
      out.push(m);
    });
    return out;
  }
}

function keyFor(tag: number, name: string): string | null {
  switch (tag) {
    case DW_TAG.structure_type:
      return `struct ${name}`;
    case DW_TAG.union_type:
      return `union ${name}`;
    case DW_TAG.enumeration_type:
      return `enum ${name}`;
    case DW_TAG.typedef:
      return `typedef ${name}`;
    case DW_TAG.base_type:
      return `base ${name}`;
    case DW_TAG.variable:
      return `variable ${name}`;
    default:
      return null;
  }
}

function strAttr(d: Die, at: number): string | null {
  const v = d.attrs.get(at);
  return v?.k === 'str' ? v.v : null;
}
function numAttr(d: Die, at: number): number | null {
  const v = d.attrs.get(at);
  if (v?.k === 'num') return v.v;
  if (v?.k === 'big') return Number.MAX_SAFE_INTEGER; // absurd: the callers' bounds refuse it
  return null;
}
function flagAttr(d: Die, at: number): boolean {
  const v = d.attrs.get(at);
  return v?.k === 'flag' ? v.v : false;
}
function encodingOf(e: number | null): 'signed' | 'unsigned' | 'float' | 'bool' | 'char' | 'other' {
  switch (e) {
    case DW_ATE.signed:
      return 'signed';
    case DW_ATE.unsigned:
      return 'unsigned';
    case DW_ATE.float:
      return 'float';
    case DW_ATE.boolean:
      return 'bool';
    case DW_ATE.signed_char:
    case DW_ATE.unsigned_char:
    case DW_ATE.UTF:
      return 'char';
    default:
      return 'other';
  }
}

/** DW_AT_data_member_location as an expression: only DW_OP_plus_uconst N is meaningful for C. */
function plusUconst(expr: Uint8Array, at: number): number {
  if (expr.length < 2 || expr[0] !== DW_OP_plus_uconst) {
    throw new TypeInfoError('member location is an expression other than DW_OP_plus_uconst', '.debug_info', at);
  }
  const c = new Cursor(expr, '.debug_info', 1, true);
  return c.ulebNum('member offset');
}
