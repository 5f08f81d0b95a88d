// Reading the crashed kernel's memory for a person: every read here goes through the strict layers
// (core/layers), so a hole, an address outside every segment, an unmapped page or an I/O error is a
// fault with its reason — never stale, foreign or made-up bytes shown as memory. libkvm's own
// answers (kvatop's cc and kvm_geterr text, nlist) are in kvm-ops.ts.

import { toHex } from '../../../core/format/bytes.ts';
import { type MemoryLayers, type ReadFault, type StrictRead, type WalkLevel } from '../../../core/layers/index.ts';
import type { OpParsedArgs } from '../../../contract/operations.ts';
import type { MemoryFaultInfo, ReadMemoryResult, ReadResult, TranslateResult, WalkLevelInfo } from '../../../contract/results.ts';
import { fromHexAddress, toHexAddress } from '../../../contract/values.ts';
import { OpFailure } from '../dispatch.ts';
import { type HandlerContext, withSession } from '../context.ts';
import type { Session } from '../sessions.ts';
import { checkDisk } from '../dump-freshness.ts';
import { sessionView } from '../session-view.ts';

/** The strict layers of a session's dump (a new set when the header is set up later by mkheader). */
export function sessionLayers(s: Session): MemoryLayers {
  return sessionView(s);
}

function requireHeader(layers: MemoryLayers): void {
  if (layers.machine === null) {
    throw new OpFailure('kvm-error', 'no valid dump header: give the dump offset (or use Scan to find it) before reading memory');
  }
}

export function walkInfo(walk: readonly WalkLevel[]): WalkLevelInfo[] {
  return walk.map((l) => ({
    level: l.level, name: l.name, tableAddress: toHexAddress(l.tableAddress), index: l.index,
    entryAddress: toHexAddress(l.entryAddress), entry: l.entry === undefined ? null : toHexAddress(l.entry),
    flags: l.flags ?? null, span: l.span === undefined ? null : toHexAddress(l.span),
  }));
}

function faultWire(f: ReadFault): MemoryFaultInfo {
  return {
    offset: f.offset, length: f.length, kind: f.kind, reason: f.reason, address: toHexAddress(f.address),
    errno: f.errno === undefined || f.errno === 0 ? null : String(f.errno), walk: f.walk ? walkInfo(f.walk) : null,
  };
}

async function strictRead(layers: MemoryLayers, space: 'virtual' | 'physical' | 'file', address: bigint, length: number): Promise<StrictRead> {
  if (space === 'virtual') return layers.virtual.read(address, length);
  if (space === 'physical') return layers.physical.read(address, length);
  if (address > BigInt(Number.MAX_SAFE_INTEGER)) throw new OpFailure('bad-request', `file offset ${toHexAddress(address)} is too large`);
  return layers.file.read(Number(address), length);
}

export async function readMemoryOp(ctx: HandlerContext, a: OpParsedArgs<'readMemory'>): Promise<ReadMemoryResult> {
  return withSession(ctx, a.sessionId, async (s) => {
    await checkDisk(ctx, s); // never serve bytes of a dump that changed on disk since it was read
    const layers = sessionLayers(s);
    if (a.space !== 'file') requireHeader(layers);
    const address = fromHexAddress(a.address);
    const got = await strictRead(layers, a.space, address, a.length);
    return { space: a.space, address: toHexAddress(address), length: a.length, data: toHex(got.data), faults: got.faults.map(faultWire) };
  });
}

export async function translateOp(ctx: HandlerContext, a: OpParsedArgs<'translate'>): Promise<TranslateResult> {
  return withSession(ctx, a.sessionId, async (s) => {
    await checkDisk(ctx, s); // never serve bytes of a dump that changed on disk since it was read
    const layers = sessionLayers(s);
    requireHeader(layers);
    const va = fromHexAddress(a.va);
    const tr = await layers.virtual.translate(va);
    if (!tr.ok) {
      return {
        va: toHexAddress(va), ok: false, pa: null, pageSize: null, fileOffset: null, physicalFault: null, walk: walkInfo(tr.walk),
        fault: {
          kind: tr.kind, level: tr.level, entryAddress: tr.entryAddress === null ? null : toHexAddress(tr.entryAddress),
          entry: tr.entry === null ? null : toHexAddress(tr.entry), reason: tr.reason, errno: tr.errno ? String(tr.errno) : null,
        },
      };
    }
    const fileOffset = layers.physical.fileOffset(tr.pa);
    return {
      va: toHexAddress(va), ok: true, pa: toHexAddress(tr.pa), pageSize: tr.pageSize, fileOffset,
      physicalFault: fileOffset === null ? `PA ${toHexAddress(tr.pa)} is in no memory segment of the dump` : null,
      walk: walkInfo(tr.walk), fault: null,
    };
  });
}

const STOP_OF_KIND: Partial<Record<ReadFault['kind'], NonNullable<ReadResult['stop']>>> = {
  'outside-segments': 'not-in-dump', eof: 'eof', io: 'io',
};

/**
 * The Memory view's read: the bytes known good from va up to the first fault, and that fault's
 * reason. A strict read: a page whose PA is in no segment, or a failed device read, stops here
 * instead of showing whatever the device holds there.
 */
export async function readOp(ctx: HandlerContext, a: OpParsedArgs<'read'>): Promise<ReadResult> {
  return withSession(ctx, a.sessionId, async (s) => {
    await checkDisk(ctx, s); // never serve bytes of a dump that changed on disk since it was read
    const layers = sessionLayers(s);
    requireHeader(layers);
    const va = BigInt.asUintN(layers.virtual.pointerSize * 8, fromHexAddress(a.va));
    const got = await layers.virtual.read(va, a.length);
    const first = got.faults[0];
    if (!first) return { va: toHexAddress(va), length: a.length, result: a.length, data: toHex(got.data), fault: null, stop: null, error: '' };
    const at = toHexAddress(first.address);
    return {
      va: toHexAddress(va), length: a.length, result: first.offset, data: toHex(got.data.subarray(0, first.offset)),
      fault: {
        message: first.reason, op: 'read', va: at, reason: first.reason,
        ...(first.errno !== undefined && first.errno !== 0 ? { errno: first.errno } : {}),
      },
      stop: STOP_OF_KIND[first.kind] ?? 'unmapped',
      error: first.reason,
    };
  });
}
