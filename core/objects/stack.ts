// The panicking thread's stack: a frame-pointer unwind from the registers the kernel saved when it
// dumped (dumppcb) or from the panicking CPU's curlwp PCB. amd64 follows the rbp chain
// ([rbp] = caller's rbp, [rbp+8] = return address), i386 the ebp chain (+4), aarch64 the x29
// chain ([x29] = caller's x29, [x29+8] = x30). Which one applies is read from struct pcb's shape.

import { field, resolve } from '../types/api.ts';
import { hex, ObjectFault, readStrict, readStruct, readUnsigned, structType, symbolAddress, type ObjectContext } from './memory.ts';
import { lwpSummary } from './processes.ts';

export interface Frame {
  index: number;
  pc: string;
  fp: string;
  /** "function+0x1c", or null when no symbol contains pc. */
  symbol: string | null;
  function: string | null;
  offset: number | null;
}

export interface Backtrace {
  /** Where the registers came from: "dumppcb" or "curlwp 0x… PCB (pid.lid)". */
  source: string;
  arch: 'amd64' | 'i386' | 'aarch64';
  frames: Frame[];
  /** Why the unwind stopped. */
  stop: string;
}

/** Deepest unwind; a kernel stack holds far fewer frames. */
const MAX_FRAMES = 128;
/** Largest step between frames believed (kernel stacks are a few pages). */
const MAX_FRAME_STEP = 1n << 20n;

function archOf(ctx: ObjectContext): Backtrace['arch'] {
  const pcb = structType(ctx.types, 'pcb');
  if (field(pcb, 'pcb_rbp')) return 'amd64';
  if (field(pcb, 'pcb_ebp')) return 'i386';
  if (field(pcb, 'pcb_tf')) return 'aarch64';
  throw new ObjectFault('struct pcb', 0n, 'has none of pcb_rbp, pcb_ebp, pcb_tf: unknown architecture');
}

/** The starting (fp, pc) from a struct pcb at va; pc is null where the PCB saves none (x86). */
async function startRegisters(ctx: ObjectContext, arch: Backtrace['arch'], pcbVa: bigint): Promise<{ fp: bigint; pc: bigint | null }> {
  const pcb = await readStruct(ctx, 'pcb', pcbVa);
  if (arch === 'amd64') return { fp: pcb.ptr('pcb_rbp'), pc: null };
  if (arch === 'i386') return { fp: pcb.ptr('pcb_ebp'), pc: null };
  const tf = await readStruct(ctx, 'trapframe', pcb.ptr('pcb_tf'));
  const regs = field(tf.type, 'tf_reg');
  if (!regs) throw new ObjectFault('struct trapframe', tf.address, 'has no tf_reg');
  const r = resolve(regs.type);
  const width = r.kind === 'array' && r.count ? regs.size / r.count : 8;
  const fp = readUnsigned(tf.bytes, regs.offset + 29 * width, width, ctx.vm.littleEndian);
  return { fp, pc: tf.ptr('tf_pc') };
}

function frameOf(ctx: ObjectContext, index: number, pc: bigint, fp: bigint): Frame {
  const d = ctx.describe?.(pc) ?? null;
  return {
    index,
    pc: hex(pc),
    fp: hex(fp),
    symbol: d ? `${d.name}+0x${d.offset.toString(16)}` : null,
    function: d?.name ?? null,
    offset: d ? Number(d.offset) : null,
  };
}

export async function unwind(ctx: ObjectContext, from: 'dumppcb' | 'panic-lwp' = 'dumppcb'): Promise<Backtrace> {
  const arch = archOf(ctx);
  let source = 'dumppcb';
  let pcbVa: bigint;
  if (from === 'dumppcb') {
    pcbVa = symbolAddress(ctx, 'dumppcb');
  } else {
    const pc = symbolAddress(ctx, 'paniccpu');
    const ps = ctx.vm.pointerSize;
    const ciVa = readUnsigned(await readStrict(ctx, 'paniccpu', pc, ps), 0, ps, ctx.vm.littleEndian);
    const ci = await readStruct(ctx, 'cpu_info', ciVa);
    const l = ci.ptr('ci_curlwp');
    const s = await lwpSummary(ctx, l);
    pcbVa = s.pcb;
    source = `curlwp ${hex(l)} PCB (${s.pid ?? '?'}.${s.lid} ${s.comm})`;
  }
  const frames: Frame[] = [];
  let start: { fp: bigint; pc: bigint | null };
  try {
    start = await startRegisters(ctx, arch, pcbVa);
  } catch (e) {
    if (e instanceof ObjectFault) return { source, arch, frames, stop: e.message };
    throw e;
  }
  if (start.pc !== null) frames.push(frameOf(ctx, 0, start.pc, start.fp));
  const word = ctx.vm.pointerSize;
  let fp = start.fp;
  for (;;) {
    if (frames.length >= MAX_FRAMES) return { source, arch, frames, stop: `more than ${MAX_FRAMES} frames; stopped` };
    if (fp === 0n) return { source, arch, frames, stop: 'end of the frame chain (frame pointer 0)' };
    if (fp % BigInt(word) !== 0n) return { source, arch, frames, stop: `frame pointer ${hex(fp)} is not ${word}-byte aligned` };
    let pair: Uint8Array;
    try {
      pair = await readStrict(ctx, 'stack frame', fp, 2 * word);
    } catch (e) {
      if (e instanceof ObjectFault) return { source, arch, frames, stop: e.message };
      throw e;
    }
    const next = readUnsigned(pair, 0, word, ctx.vm.littleEndian);
    const ret = readUnsigned(pair, word, word, ctx.vm.littleEndian);
    if (ret === 0n) return { source, arch, frames, stop: `return address 0 at ${hex(fp + BigInt(word))}: end of the chain` };
    const frame = frameOf(ctx, frames.length, ret, fp);
    if (ctx.describe && frame.symbol === null) {
      return { source, arch, frames, stop: `return address ${hex(ret)} at ${hex(fp + BigInt(word))} is in no kernel function` };
    }
    frames.push(frame);
    if (next === 0n) return { source, arch, frames, stop: 'end of the frame chain (frame pointer 0)' };
    if (next <= fp || next - fp > MAX_FRAME_STEP) {
      return { source, arch, frames, stop: `implausible caller frame pointer ${hex(next)} after ${hex(fp)} (a stack grows down: callers' frames lie above, within 1 MiB)` };
    }
    fp = next;
  }
}

/**
 * The panicking thread's stack: from dumppcb, and when that gives no frames (savectx never ran,
 * or its registers are zero), from the panicking CPU's curlwp PCB; the stop says why dumppcb was
 * not used.
 */
export async function unwindPanic(ctx: ObjectContext): Promise<Backtrace> {
  const first = await unwind(ctx, 'dumppcb');
  if (first.frames.length > 0 || ctx.symbol('paniccpu') === null) return first;
  try {
    const second = await unwind(ctx, 'panic-lwp');
    return { ...second, source: `${second.source}; dumppcb gave no frames (${first.stop})` };
  } catch (e) {
    if (e instanceof ObjectFault) return { ...first, stop: `${first.stop}; the panicking LWP's PCB: ${e.message}` };
    throw e;
  }
}
