// The kvm_dump(3) commands: mkheader, wrtheader, inval, read, kvatop, nlist, scan. Each prints what
// the C function returned and exactly what kvm_geterr() would hold; exit 0 iff the C result is >= 0.

import { open as fsOpen } from 'node:fs/promises';
import { hex, toHex } from '../../core/format/bytes.ts';
import { scanForDumps } from '../../core/scan.ts';
import type { Kvm } from '../../core/kvm.ts';
import type { MachineName } from '../../core/machines/machine.ts';
import { openSource } from '../sources/node-source.ts';
import { openPartition, type PartitionView } from '../disks/partition-source.ts';
import type { DumpSource } from '../../core/source.ts';
import type { Emitter } from './output.ts';
import { withDump, type DumpArgs } from './open.ts';


type Exit = number;
export type { DumpArgs };

function segmentsOf(kd: Kvm) {
  return (kd.machine?.segments ?? []).map((s) => ({ start: hex(s.start), size: hex(s.size) }));
}

export async function mkheaderCommand(args: DumpArgs, out: Emitter): Promise<Exit> {
  const failure = { result: -1, error: '', machine: null, dumpOffset: null, cpuDataSize: 0, memsegs: [] };
  return withDump(args, out, failure, async ({ kd, mkheader }) => {
    // A core file already carries a header: mkheader says so, as NetBSD does.
    const result = mkheader ?? (await kd.mkheader(args.dumpOffset ?? 0));
    const obj = {
      result,
      error: kd.geterr(),
      machine: kd.machine?.name ?? null,
      dumpOffset: kd.hasHeader ? kd.dumpOff : null,
      cpuDataSize: kd.cpuDsize,
      memsegs: segmentsOf(kd),
      fault: result <= 0 ? kd.lastFault : undefined,
    };
    out.result(obj, () => [
      `kvm_dump_mkheader: ${result}${kd.geterr() ? ` (${kd.geterr()})` : ''}`,
      ...(kd.hasHeader
        ? [`machine: ${kd.machine!.name}`, `memory data at offset ${kd.dumpOff} (${hex(kd.dumpOff)})`, `cpu data: ${kd.cpuDsize} bytes`,
           ...kd.machine!.segments.map((s, i) => `segment ${i}: ${hex(s.start)} +${hex(s.size)}`)]
        : []),
      ...faultLines(kd, result <= 0),
    ]);
    return result >= 0 ? 0 : 1;
  });
}

function faultLines(kd: Kvm, show: boolean): string[] {
  const f = kd.lastFault;
  if (!show || !f || (f.offset === undefined && !f.field)) return [];
  const where = [f.offset !== undefined ? `offset ${f.offset} (${hex(f.offset)})` : '', f.field ? `field ${f.field}` : ''].filter(Boolean).join(', ');
  const what = [f.expected ? `expected ${f.expected}` : '', f.found ? `found ${f.found}` : ''].filter(Boolean).join(', ');
  return [`  at ${where}${what ? `: ${what}` : ''}`];
}

export async function wrtheaderCommand(args: DumpArgs & { dumpsize: number; out: string }, out: Emitter): Promise<Exit> {
  return withDump(args, out, { result: -1, error: '' }, async ({ kd }) => {
    const file = await fsOpen(args.out, 'w', 0o644);
    let result: number;
    try {
      let position = 0;
      result = await kd.wrtheader({
        write: async (chunk) => {
          await file.write(chunk, 0, chunk.length, position);
          position += chunk.length;
        },
      }, args.dumpsize);
      await file.sync();
    } finally {
      await file.close();
    }
    out.result({ result, error: kd.geterr() }, () => [`kvm_dump_wrtheader: ${result}${kd.geterr() ? ` (${kd.geterr()})` : ''}`]);
    return result >= 0 ? 0 : 1;
  });
}

export async function invalCommand(args: DumpArgs & { yes: boolean }, out: Emitter): Promise<Exit> {
  const failure = { result: -1, error: '', offset: null, length: null };
  if (!args.yes) {
    const why = `refusing to write to ${args.dump}: kvm_dump_inval destroys the dump magic; pass --yes to confirm`;
    out.result({ ...failure, refused: why }, () => [`kvmdump: ${why}`]);
    return 1;
  }
  return withDump(args, out, failure, async ({ kd }) => {
    const result = await kd.inval();
    const w = kd.lastInval;
    out.result({ result, error: kd.geterr(), offset: w?.offset ?? null, length: w?.length ?? null }, () => [
      `kvm_dump_inval: ${result}${kd.geterr() ? ` (${kd.geterr()})` : ''}`,
      ...(w ? [`zeroed ${w.length} bytes at offset ${w.offset} (${hex(w.offset)})`] : []),
    ]);
    return result >= 0 ? 0 : 1;
  }, true);
}

export async function readCommand(args: DumpArgs & { va?: bigint; symbol?: string; length: number }, out: Emitter): Promise<Exit> {
  return withDump(args, out, { result: -1, error: '', hex: '' }, async ({ kd }) => {
    let va = args.va;
    if (args.symbol !== undefined) {
      const nl = await kd.nlist([args.symbol]);
      if (nl.result === -1 || !nl.entries[0]?.found) {
        const error = nl.result === -1 ? kd.geterr() : `${args.symbol}: not in namelist`;
        out.result({ result: -1, error, hex: '' }, () => [`kvmdump: ${error}`]);
        return 1;
      }
      va = nl.entries[0].value;
    }
    const buf = new Uint8Array(args.length);
    const result = await kd.read(va!, buf);
    const bytes = result > 0 ? buf.subarray(0, result) : new Uint8Array(0);
    out.result({ result, error: kd.geterr(), hex: toHex(bytes) }, () => [
      `kvm_read(${hex(va!)}, ${args.length}): ${result}${kd.geterr() ? ` (${kd.geterr()})` : ''}`,
      ...hexdumpLines(va!, bytes),
    ]);
    return result >= 0 ? 0 : 1;
  });
}

export function hexdumpLines(base: bigint, bytes: Uint8Array): string[] {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const row = bytes.subarray(i, i + 16);
    const hexPart = Array.from(row, (b) => b.toString(16).padStart(2, '0')).join(' ').padEnd(47);
    const text = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${(base + BigInt(i)).toString(16).padStart(16, '0')}  ${hexPart}  |${text}|`);
  }
  return lines;
}

export async function kvatopCommand(args: DumpArgs & { va: bigint }, out: Emitter): Promise<Exit> {
  return withDump(args, out, { result: 0, error: '', pa: null, offset: null }, async ({ kd }) => {
    const tr = await kd.kvatop(args.va);
    const ok = tr.cc > 0;
    const offset = ok ? kd.pa2off(tr.pa) : null;
    out.result({ result: tr.cc, error: kd.geterr(), pa: hex(tr.pa), offset }, () => [
      ok ? `${hex(args.va)} -> pa ${hex(tr.pa)} (file offset ${offset}, ${tr.cc} bytes to the end of the page)`
         : `${hex(args.va)}: no translation (${kd.geterr()})`,
    ]);
    return 0; // _kvm_kvatop returns a count, never negative
  });
}

export async function nlistCommand(args: { kernel: string; names: string[]; machine?: MachineName }, out: Emitter): Promise<Exit> {
  const { fdnlist } = await import('../../core/format/nlist.ts');
  const { MACHINES, machineByName } = await import('../../core/machines/index.ts');
  let src;
  try {
    src = await openSource(args.kernel);
  } catch (e) {
    const error = (e as Error).message;
    out.result({ result: -1, error, symbols: {} }, () => [`kvmdump: ${error}`]);
    return 1;
  }
  try {
    const pinned = args.machine ? machineByName(args.machine) : undefined;
    const nl = await fdnlist(src, args.names, { acceptedMachines: pinned ? [pinned] : MACHINES });
    const symbols: Record<string, string | null> = {};
    for (const e of nl.entries) symbols[e.name] = e.found ? hex(e.value) : null;
    const error = nl.result === -1 ? 'bad namelist' : '';
    out.result({ result: nl.result, error, symbols, ...(nl.reason ? { reason: nl.reason } : {}) }, () =>
      nl.result === -1
        ? [`kvmdump: ${args.kernel}: bad namelist${nl.reason ? ` (${nl.reason})` : ''}`]
        : nl.entries.map((e) => `${e.name.padEnd(24)} ${e.found ? hex(e.value) : 'not found'}`),
    );
    return nl.result >= 0 ? 0 : 1;
  } finally {
    await src.close();
  }
}

export async function scanCommand(args: { dump: string; partition?: string; progress?: boolean }, out: Emitter): Promise<Exit> {
  let src;
  let scanned: DumpSource;
  let view: PartitionView | null = null;
  try {
    src = await openSource(args.dump);
    scanned = src;
    if (args.partition !== undefined) {
      try {
        view = await openPartition(src, args.partition);
        scanned = view.source;
      } catch (e) {
        await src.close();
        throw e;
      }
    }
  } catch (e) {
    const error = (e as Error).message;
    out.result({ candidates: [], error }, () => [`kvmdump: ${error}`]);
    return 1;
  }
  try {
    const candidates = await scanForDumps(scanned, {
      onProgress: args.progress ? (done, total) => process.stderr.write(`\rscanned ${done} of ${total} bytes`) : undefined,
    });
    if (args.progress) process.stderr.write('\n');
    const part = view && { id: view.partition.id, name: view.partition.name, start: view.partition.start, size: view.source.size };
    out.result(part ? { candidates, partition: part } : { candidates }, () =>
      candidates.length === 0
        ? ['no dump header found']
        : candidates.map((c) => `${part ? `partition ${part.id} (absolute offset ${part.start + c.offset}): ` : ''}offset ${c.offset} (dumplo ${c.offset / 512}): ${c.machine}, header ${c.headerSize} bytes, ${c.segments} segments, ${c.memoryBytes} bytes of memory${c.complete ? '' : ' (image too short: incomplete dump)'}${c.notes.length ? ` [${c.notes.join('; ')}]` : ''}`),
    );
    return 0;
  } finally {
    await src.close();
  }
}
