// Typed reads of kernel memory through the STRICT virtual layer: every struct is read whole, and
// a fault (unmapped page, hole, I/O error) is an ObjectFault carrying the walk's reason — never
// zeros taken for data. Field offsets come from the type information, never from this file.

import type { VirtualSpace } from '../layers/types.ts';
import { field, resolve, sizeOf, type KernelType, type TypeInfo } from '../types/api.ts';
import { utf8Decode } from '../format/utf8.ts';

/** What the object readers are given: memory, types and the kernel's symbols. */
export interface ObjectContext {
  vm: VirtualSpace;
  types: TypeInfo;
  /** A symbol's address (kvm_nlist style), or null when the kernel lacks it. */
  symbol(name: string): bigint | null;
  /** The function containing addr with the offset into it, or null. */
  describe?(addr: bigint): { name: string; offset: bigint } | null;
}

/** A read that could not be made: what was being read, where, and why. */
export class ObjectFault extends Error {
  constructor(
    readonly what: string,
    readonly address: bigint,
    readonly reason: string,
  ) {
    super(`${what} at 0x${address.toString(16)}: ${reason}`);
    this.name = 'ObjectFault';
  }
}

/** Type information lacks what a reader needs (a struct, a field): say which. */
export class MissingTypeError extends Error {
  constructor(readonly what: string) {
    super(`the debug information has no ${what}`);
    this.name = 'MissingTypeError';
  }
}

export const hex = (v: bigint): string => `0x${v.toString(16)}`;

/** A struct's bytes as read from memory, with typed field access by name. */
export class StructView {
  constructor(
    readonly ctx: ObjectContext,
    readonly type: KernelType,
    readonly typeName: string,
    readonly address: bigint,
    readonly bytes: Uint8Array,
  ) {}

  private where(path: string) {
    const f = field(this.type, path);
    if (!f) throw new MissingTypeError(`field ${path} in struct ${this.typeName}`);
    return f;
  }
  has(path: string): boolean {
    return field(this.type, path) !== null;
  }
  offsetOf(path: string): number {
    return this.where(path).offset;
  }
  /** An integer field (any size up to 8, signedness from its type); bit-fields are extracted. */
  int(path: string): bigint {
    const f = this.where(path);
    const t = resolve(f.type);
    const signed = t.kind === 'base' ? t.encoding === 'signed' || (t.encoding === 'char' && t.name === 'char') : false;
    let v = readUnsigned(this.bytes, f.offset, f.size, this.ctx.vm.littleEndian);
    if (f.bitSize !== undefined) {
      v = (v >> BigInt(f.bitOffset ?? 0)) & ((1n << BigInt(f.bitSize)) - 1n);
      return v;
    }
    return signed ? BigInt.asIntN(f.size * 8, v) : v;
  }
  num(path: string): number {
    return Number(this.int(path));
  }
  ptr(path: string): bigint {
    const f = this.where(path);
    return readUnsigned(this.bytes, f.offset, f.size, this.ctx.vm.littleEndian);
  }
  /** A char array field up to its first NUL. */
  chars(path: string): string {
    const f = this.where(path);
    const b = this.bytes.subarray(f.offset, f.offset + f.size);
    const end = b.indexOf(0);
    return utf8Decode(end < 0 ? b : b.subarray(0, end));
  }
  /** The address of a field inside this struct. */
  addressOf(path: string): bigint {
    return this.address + BigInt(this.where(path).offset);
  }
}

export function readUnsigned(b: Uint8Array, off: number, size: number, le: boolean): bigint {
  let v = 0n;
  for (let i = 0; i < size; i++) {
    const byte = BigInt(b[off + i] ?? 0);
    v |= le ? byte << BigInt(8 * i) : byte << BigInt(8 * (size - 1 - i));
  }
  return v;
}

/** Read `length` bytes at va or throw the first fault with its reason. */
export async function readStrict(ctx: ObjectContext, what: string, va: bigint, length: number): Promise<Uint8Array> {
  if (va === 0n) throw new ObjectFault(what, va, 'NULL pointer');
  const r = await ctx.vm.read(va, length);
  const f = r.faults[0];
  if (f) throw new ObjectFault(what, f.address, f.reason);
  return r.data;
}

/** Read a whole struct of the named type at va. */
export async function readStruct(ctx: ObjectContext, name: string, va: bigint): Promise<StructView> {
  const t = structType(ctx.types, name);
  const size = sizeOf(t);
  if (size === null) throw new MissingTypeError(`size for struct ${name}`);
  const bytes = await readStrict(ctx, `struct ${name}`, va, size);
  return new StructView(ctx, t, name, va, bytes);
}

export function structType(types: TypeInfo, name: string): KernelType {
  const t = types.struct(name);
  if (!t) throw new MissingTypeError(`struct ${name}`);
  return t;
}

/** A global's address from the symbol table; throws MissingTypeError naming it. */
export function symbolAddress(ctx: ObjectContext, name: string): bigint {
  const a = ctx.symbol(name);
  if (a === null) throw new MissingTypeError(`symbol ${name} (not in the kernel's symbol table)`);
  return a;
}

/** Read a pointer-sized word at va. */
export async function readPointer(ctx: ObjectContext, what: string, va: bigint): Promise<bigint> {
  const n = ctx.vm.pointerSize;
  return readUnsigned(await readStrict(ctx, what, va, n), 0, n, ctx.vm.littleEndian);
}

/** A NUL-terminated string at va, at most max bytes; faults inside it end it with the reason. */
export async function readCString(ctx: ObjectContext, what: string, va: bigint, max = 256): Promise<string> {
  if (va === 0n) return '';
  const r = await ctx.vm.read(va, max);
  const limit = r.faults.length > 0 ? r.faults[0].offset : max;
  const b = r.data.subarray(0, limit);
  const end = b.indexOf(0);
  if (end < 0 && r.faults.length > 0) throw new ObjectFault(what, r.faults[0].address, r.faults[0].reason);
  return utf8Decode(end < 0 ? b : b.subarray(0, end));
}

/** How a bounded list walk ended. */
export type ListEnd =
  | { complete: true }
  | { complete: false; reason: string; address: bigint };

/** The most entries any list walk visits: a corrupted cycle or runaway list stops here. */
export const MAX_LIST = 100_000;

/**
 * Walk a singly linked chain from `first`: visit(address) reads one element and returns the next
 * pointer. A NULL next ends the list; a fault, a revisited address or MAX_LIST entries end it
 * with the reason.
 */
export async function walkList(
  first: bigint,
  visit: (va: bigint) => Promise<bigint>,
  opts: { stopAt?: bigint; max?: number } = {},
): Promise<ListEnd> {
  const seen = new Set<bigint>();
  let va = first;
  const max = opts.max ?? MAX_LIST;
  while (va !== 0n && va !== opts.stopAt) {
    if (seen.has(va)) return { complete: false, reason: `the list loops back to ${hex(va)}`, address: va };
    if (seen.size >= max) return { complete: false, reason: `more than ${max} entries; stopped`, address: va };
    seen.add(va);
    try {
      va = await visit(va);
    } catch (e) {
      if (e instanceof ObjectFault) return { complete: false, reason: e.message, address: e.address };
      throw e;
    }
  }
  return { complete: true };
}

/** The value of an enumerator by name in an enum type reachable from a field, or null. */
export function enumValue(t: KernelType, name: string): bigint | null {
  const r = resolve(t);
  if (r.kind !== 'enum') return null;
  return r.values.find((v) => v.name === name)?.value ?? null;
}
