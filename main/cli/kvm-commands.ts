// The kvm_dump(3) commands: mkheader, wrtheader, inval, read, kvatop, nlist, scan. Each prints what
// the C function returned and exactly what kvm_geterr() would hold; exit 0 only when the operation
// did what was asked (README: exit codes).

import { createNewFile, RefusedOutput } from '../fs/new-file.ts';
import { hex, toHex } from '../../core/format/bytes.ts';
import { scanForDumps } from '../../core/scan.ts';
import type { Kvm } from '../../core/kvm.ts';
import type { MachineName } from '../../core/machines/machine.ts';
import { openSource } from '../sources/node-source.ts';
import { openPartition, type PartitionView } from '../disks/partition-source.ts';
import { readPartitionMap } from '../../core/partitions/read-map.ts';
import type { DumpSource } from '../../core/source.ts';
import { openScanSource } from '../session/scan-source.ts';
import type { Emitter } from './output.ts';
import { withDump, type DumpArgs } from './open.ts';


type Exit = number;
export type { DumpArgs };

function segmentsOf(kd: Kvm) {
  return (kd.machine?.segments ?? []).map((s) => ({ start: hex(s.start), size: hex(s.size) }));
}

/** Said only when a corrupt header lists more segments than are decoded (and listed). */
function truncationOf(kd: Kvm): { memsegsTruncated?: { listed: number; total: number } } {
  const m = kd.machine;
  return m && m.segmentCount > m.segments.length ? { memsegsTruncated: { listed: m.segments.length, total: m.segmentCount } } : {};
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
      ...truncationOf(kd),
      fault: result <= 0 ? kd.lastFault : undefined,
    };
    out.result(obj, () => [
      `kvm_dump_mkheader: ${result}${kd.geterr() ? ` (${kd.geterr()})` : ''}`,
      ...(kd.hasHeader
        ? [`machine: ${kd.machine!.name}`, `memory data at offset ${kd.dumpOff} (${hex(kd.dumpOff)})`, `cpu data: ${kd.cpuDsize} bytes`,
           ...kd.machine!.segments.map((s, i) => `segment ${i}: ${hex(s.start)} +${hex(s.size)}`),
           ...(kd.machine!.segmentCount > kd.machine!.segments.length
             ? [`(${kd.machine!.segmentCount - kd.machine!.segments.length} more segments not listed: the header claims ${kd.machine!.segmentCount})`]
             : [])]
        : []),
      ...faultLines(kd, result <= 0),
    ]);
    return result > 0 ? 0 : 1; // 0 means no valid header was found: the command failed
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
  const failure = { result: -1, error: '' };
  return withDump(args, out, failure, async ({ kd }) => {
    let file;
    try {
      file = await createNewFile(args.out, [args.dump, args.kernel]);
    } catch (e) {
      const error = e instanceof RefusedOutput ? e.message : `${args.out}: ${(e as Error).message}`;
      out.result({ ...failure, error, refused: error }, () => [`kvmdump: ${error}`]);
      return 1;
    }
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

/** Reads up to this size are answered in one piece (one JSON object, or a hexdump printed at once). */
export const INLINE_READ_LIMIT = 1 << 20;
/** The most one JSON answer carries (32 MiB of hex): larger reads go to a file with --out. */
export const JSON_READ_LIMIT = 16 << 20;
/** Larger reads run as kvm_read calls of this size: same result, same error text, constant memory. */
const READ_CHUNK = 1 << 20;

type ReadArgs = DumpArgs & { va?: bigint; symbol?: string; length: number; out?: string };

export async function readCommand(args: ReadArgs, out: Emitter): Promise<Exit> {
  const failure = { result: -1, error: '', hex: '' };
  if (out.json && args.out === undefined && args.length > JSON_READ_LIMIT) {
    const error = `--length ${args.length} is more than one JSON answer carries (${JSON_READ_LIMIT} bytes): add --out FILE to write the bytes to a new file`;
    out.result({ ...failure, error, refused: error }, () => [`kvmdump: ${error}`]);
    return 1;
  }
  return withDump(args, out, failure, async ({ kd }) => {
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
    if (args.out !== undefined) return readToFile(kd, va!, args, out);
    if (args.length > INLINE_READ_LIMIT) return readStreamingHex(kd, va!, args.length, out);
    const buf = new Uint8Array(args.length);
    const result = await kd.read(va!, buf);
    const bytes = result > 0 ? buf.subarray(0, result) : new Uint8Array(0);
    out.result({ result, error: kd.geterr(), hex: toHex(bytes) }, () => [
      `kvm_read(${hex(va!)}, ${args.length}): ${result}${kd.geterr() ? ` (${kd.geterr()})` : ''}`,
      ...hexdumpLines(va!, bytes),
    ]);
    return result === args.length ? 0 : 1; // a short count is a read that failed part-way
  });
}

/**
 * kvm_read of `length` bytes as a series of kvm_read calls of at most READ_CHUNK bytes. The result
 * is the one a single call gives: -1 as soon as a page has no translation, else the count up to
 * the first short read. `sink` receives each chunk's bytes as they arrive.
 */
async function chunkedRead(kd: Kvm, va: bigint, length: number, sink: (bytes: Uint8Array, at: bigint) => Promise<void>): Promise<number> {
  const mask = (1n << BigInt(kd.longSize * 8)) - 1n;
  const buf = new Uint8Array(Math.min(length, READ_CHUNK));
  let done = 0;
  while (done < length) {
    const want = Math.min(buf.length, length - done);
    const at = (va + BigInt(done)) & mask;
    const n = await kd.read(at, buf.subarray(0, want));
    if (n < 0) return -1;
    if (n > 0) await sink(buf.subarray(0, n), at);
    done += n;
    if (n < want) break;
  }
  return done;
}

/** --out FILE: the bytes read, raw, into a new file (never over an existing one). */
async function readToFile(kd: Kvm, va: bigint, args: ReadArgs, out: Emitter): Promise<Exit> {
  const failure = { result: -1, error: '', out: args.out!, bytesWritten: 0 };
  let file;
  try {
    file = await createNewFile(args.out!, [args.dump, args.kernel]);
  } catch (e) {
    const error = e instanceof RefusedOutput ? e.message : `${args.out}: ${(e as Error).message}`;
    out.result({ ...failure, error, refused: error }, () => [`kvmdump: ${error}`]);
    return 1;
  }
  let written = 0;
  let result: number;
  try {
    result = await chunkedRead(kd, va, args.length, async (bytes) => {
      await file.write(bytes, 0, bytes.length, written);
      written += bytes.length;
    });
    await file.sync();
  } finally {
    await file.close();
  }
  const error = kd.geterr();
  out.result({ result, error, out: args.out!, bytesWritten: written }, () => [
    `kvm_read(${hex(va)}, ${args.length}): ${result}${error ? ` (${error})` : ''}`,
    `${written} bytes written to ${args.out}${result < 0 ? ' (the bytes read before the address without a translation)' : ''}`,
  ]);
  return result === args.length ? 0 : 1;
}

/** A hexdump too large to hold: printed chunk by chunk (human output only; --json is refused above). */
async function readStreamingHex(kd: Kvm, va: bigint, length: number, out: Emitter): Promise<Exit> {
  const result = await chunkedRead(kd, va, length, async (bytes, at) => {
    await writeLines(hexdumpLines(at, bytes));
  });
  const error = kd.geterr();
  await writeLines([`kvm_read(${hex(va)}, ${length}): ${result}${error ? ` (${error})` : ''}`]);
  return result === length ? 0 : 1;
}

/** Write lines to stdout, waiting for the pipe to drain so memory stays bounded. */
function writeLines(lines: string[]): Promise<void> {
  return new Promise((resolve) => {
    if (process.stdout.write(lines.join('\n') + '\n')) resolve();
    else process.stdout.once('drain', () => resolve());
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
    return ok ? 0 : 1; // _kvm_kvatop's 0 is a failed translation (the JSON keeps the 0)
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

export async function scanCommand(args: { dump: string; partition?: string; progress?: boolean; maxBytes?: number }, out: Emitter): Promise<Exit> {
  let opened;
  let scanned: DumpSource;
  let view: PartitionView | null = null;
  try {
    opened = await openScanSource(args.dump);
    scanned = opened.source;
    if (args.partition !== undefined) {
      try {
        view = await openPartition(opened.source, args.partition);
        scanned = view.source;
      } catch (e) {
        await opened.close();
        throw e;
      }
    }
  } catch (e) {
    const error = (e as Error).message;
    out.result({ candidates: [], error }, () => [`kvmdump: ${error}`]);
    return 1;
  }
  try {
    let stoppedAt: number | null = null;
    const candidates = await scanForDumps(scanned, {
      onProgress: args.progress ? (done, total) => process.stderr.write(`\rscanned ${done} of ${total} bytes`) : undefined,
      maxBytes: args.maxBytes,
      onLimit: (at) => (stoppedAt = at),
    });
    if (args.progress) process.stderr.write('\n');
    const part = view && { id: view.partition.id, name: view.partition.name, start: view.partition.start, size: view.source.size };
    // A whole disk scanned: say which partition each header is in, and its dumplo there.
    const map = !view && candidates.length ? await readPartitionMap(scanned).catch(() => null) : null;
    const within = (offset: number) => {
      const hits = (map?.partitions ?? []).filter((p) => !p.raw && p.start <= offset && offset < p.start + p.size).sort((a, b) => a.size - b.size);
      const p = hits[0];
      return p ? { partition: p.id, name: p.name, type: p.typeName, dumplo: (offset - p.start) / 512 } : null;
    };
    const located = candidates.map((c) => ({ ...c, ...(map ? { inPartition: within(c.offset) } : {}) }));
    const whereText = (c: (typeof located)[number]) => {
      const w = 'inPartition' in c ? c.inPartition : null;
      return w ? ` — in partition ${w.partition}${w.name !== w.partition ? ` '${w.name}'` : ''} (${w.type}) at dumplo ${w.dumplo}: --partition ${w.partition} --dump-offset ${w.dumplo * 512}` : '';
    };
    const limitNote = stoppedAt === null ? null
      : `stopped after ${stoppedAt} bytes (${scanned.size === 0 ? 'the source has no known size' : 'the --max-bytes limit'}); give --max-bytes to scan further`;
    out.result({ candidates: located, ...(part ? { partition: part } : {}), ...(limitNote ? { stoppedAt, note: limitNote } : {}) }, () => [
      ...(candidates.length === 0
        ? ['no dump header found']
        : located.map((c) => `${part ? `partition ${part.id} (absolute offset ${part.start + c.offset}): ` : ''}offset ${c.offset} (dumplo ${c.offset / 512}): ${c.machine}, header ${c.headerSize} bytes, ${c.segments} segments, ${c.memoryBytes} bytes of memory${c.complete ? '' : ' (image too short: incomplete dump)'}${c.notes.length ? ` [${c.notes.join('; ')}]` : ''}${whereText(c)}`)),
      ...(limitNote ? [limitNote] : []),
    ]);
    return 0;
  } finally {
    await opened.close();
  }
}
