// The type API every object reader asks: struct layouts, field offsets and sizes, from whatever
// debug format the kernel build carries. DWARF implements it today (dwarf.ts); CTF (.SUNW_ctf)
// can implement the same interface later without the object readers changing.

/** A type as the object readers see it. Composite types list members; wrappers name their target. */
export type KernelType =
  | { kind: 'base'; name: string; size: number; encoding: 'signed' | 'unsigned' | 'float' | 'bool' | 'char' | 'other' }
  | { kind: 'void' }
  | { kind: 'pointer'; size: number; target: () => KernelType }
  | { kind: 'struct' | 'union'; name: string | null; size: number | null; members: () => Member[]; declaration: boolean }
  | { kind: 'enum'; name: string | null; size: number; values: ReadonlyArray<{ name: string; value: bigint }> }
  | { kind: 'array'; element: () => KernelType; count: number | null }
  | { kind: 'typedef'; name: string; target: () => KernelType }
  | { kind: 'const' | 'volatile' | 'restrict' | 'atomic'; target: () => KernelType }
  | { kind: 'function'; name: string | null };

export interface Member {
  /** null for an anonymous struct/union member. */
  name: string | null;
  /** Byte offset from the start of the containing type. */
  offset: number;
  type: () => KernelType;
  /** For a bit-field: the width and the bit offset from the start of the containing type. */
  bitSize?: number;
  bitOffset?: number;
}

/** A field found by path ("p_stats", "ci_data.cpu_index"): where it is, how big, what type. */
export interface FieldInfo {
  offset: number;
  size: number;
  type: KernelType;
  bitSize?: number;
  bitOffset?: number;
}

/** Malformed or hostile type information: what and where. */
export class TypeInfoError extends Error {
  constructor(
    readonly reason: string,
    /** The section and offset at fault, e.g. ".debug_info" and 0x1a2b. */
    readonly section?: string,
    readonly offset?: number,
  ) {
    super(section !== undefined && offset !== undefined ? `${section} offset 0x${offset.toString(16)}: ${reason}` : reason);
    this.name = 'TypeInfoError';
  }
}

export interface TypeInfo {
  /** "DWARF 5", "CTF"…: for reports. */
  readonly format: string;
  /** The complete definition of `struct name` (or union), or null when the debug info has none. */
  struct(name: string): KernelType | null;
  /** A typedef, struct, union, enum or base type by name, in that order of preference. */
  named(name: string): KernelType | null;
  /** The type of a global variable, or null. */
  variable(name: string): KernelType | null;
}

/** Most typedef/qualifier links followed before giving up: a cycle in hostile input ends here. */
export const MAX_TYPE_CHAIN = 64;
/** The largest object size believed; kernel structs are kilobytes. */
export const MAX_TYPE_SIZE = 1 << 30;

/** Strip typedefs and qualifiers. */
export function resolve(t: KernelType): KernelType {
  let cur = t;
  for (let i = 0; i < MAX_TYPE_CHAIN; i++) {
    if (cur.kind === 'typedef' || cur.kind === 'const' || cur.kind === 'volatile' || cur.kind === 'restrict' || cur.kind === 'atomic') {
      cur = cur.target();
    } else {
      return cur;
    }
  }
  throw new TypeInfoError(`more than ${MAX_TYPE_CHAIN} typedef/qualifier links (a cycle?)`);
}

/** sizeof(t); null for void, functions, incomplete types and flexible arrays. */
export function sizeOf(t: KernelType, depth = 0): number | null {
  if (depth > MAX_TYPE_CHAIN) throw new TypeInfoError(`type nesting deeper than ${MAX_TYPE_CHAIN} (a cycle?)`);
  const r = resolve(t);
  switch (r.kind) {
    case 'base':
    case 'pointer':
    case 'enum':
      return r.size;
    case 'struct':
    case 'union':
      return r.size;
    case 'array': {
      if (r.count === null) return null;
      const e = sizeOf(r.element(), depth + 1);
      if (e === null) return null;
      const total = e * r.count;
      if (total > MAX_TYPE_SIZE) throw new TypeInfoError(`array of ${r.count} × ${e} bytes is larger than ${MAX_TYPE_SIZE}`);
      return total;
    }
    default:
      return null;
  }
}

/** The name C would print for t (enough for reports and errors). */
export function typeName(t: KernelType, depth = 0): string {
  if (depth > 8) return '…';
  switch (t.kind) {
    case 'base':
    case 'typedef':
      return t.name;
    case 'void':
      return 'void';
    case 'pointer':
      return `${typeName(t.target(), depth + 1)} *`;
    case 'struct':
    case 'union':
    case 'enum':
      return `${t.kind} ${t.name ?? '<anonymous>'}`;
    case 'array':
      return `${typeName(t.element(), depth + 1)}[${t.count ?? ''}]`;
    case 'function':
      return 'function';
    default:
      return `${t.kind} ${typeName(t.target(), depth + 1)}`;
  }
}

/** Look a member up by dotted path inside a struct/union, descending anonymous members. */
export function field(t: KernelType, path: string): FieldInfo | null {
  let offset = 0;
  let cur = t;
  let last: FieldInfo | null = null;
  for (const part of path.split('.')) {
    const found = findMember(resolve(cur), part, 0);
    if (!found) return null;
    offset += found.offset;
    const type = found.member.type();
    const size = sizeOf(type) ?? 0;
    last = { offset, size, type };
    if (found.member.bitSize !== undefined) {
      last.bitSize = found.member.bitSize;
      last.bitOffset = (found.member.bitOffset ?? 0) + (found.offset - found.member.offset) * 8;
    }
    cur = type;
  }
  return last;
}

function findMember(t: KernelType, name: string, depth: number): { member: Member; offset: number } | null {
  if (depth > MAX_TYPE_CHAIN || (t.kind !== 'struct' && t.kind !== 'union')) return null;
  for (const m of t.members()) {
    if (m.name === name) return { member: m, offset: m.offset };
  }
  for (const m of t.members()) {
    if (m.name !== null) continue;
    const inner = findMember(resolve(m.type()), name, depth + 1);
    if (inner) return { member: inner.member, offset: m.offset + inner.offset };
  }
  return null;
}
