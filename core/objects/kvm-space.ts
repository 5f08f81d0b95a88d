// An interim STRICT VirtualSpace over a Kvm handle, until the strict layers of issue 8 land: each
// page is translated by the machine's own walk (with a private WalkContext, so the handle's
// kvm_geterr() buffer is never touched), its PA must lie in a memory segment (libkvm's pa2off
// would otherwise send it to the end of the dump), and a short read is a fault. Nothing here ever
// returns bytes that are not the dump's memory at that address.

import type { Kvm } from '../kvm/handle.ts';
import type { DumpSource } from '../source.ts';
import { preadFully } from '../source.ts';
import type { ReadFault, StrictRead, Translation, VirtualSpace } from '../layers/types.ts';
import type { WalkContext } from '../machines/machine.ts';

export function kvmVirtualSpace(kd: Kvm, dump: DumpSource): VirtualSpace {
  const machine = kd.machineModule;
  if (!machine || !kd.machine) throw new Error('no dump header: no memory to read');
  const pageSize = machine.pageSize;
  const segments = kd.machine.segments;
  const mask = (1n << BigInt(kd.longSize * 8)) - 1n;
  const inSegment = (pa: bigint, n: number) => segments.some((s) => pa >= s.start && pa + BigInt(n) <= s.start + s.size);
  const state = kd.machine;
  let lastError = '';
  const walk: WalkContext = {
    readEntry: async (pa, size) => {
      if (!inSegment(pa, size)) return null;
      const buf = new Uint8Array(size);
      if ((await preadFully(dump, buf, kd.pa2off(pa))) !== size) return null;
      const dv = new DataView(buf.buffer);
      return size === 8 ? dv.getBigUint64(0, machine.littleEndian) : BigInt(dv.getUint32(0, machine.littleEndian));
    },
    err: (msg) => {
      lastError = msg;
    },
    syserr: (msg) => {
      lastError = msg;
    },
  };
  /** The walk's answer for one VA, and why when it fails (the text libkvm would have set). */
  async function walkOne(va: bigint): Promise<{ cc: number; pa: bigint; why: string }> {
    lastError = '';
    const tr = await state.kvatop(walk, va & mask);
    return { ...tr, why: lastError };
  }

  async function translate(va: bigint): Promise<Translation> {
    const tr = await walkOne(va);
    if (tr.cc === 0) return { ok: false, va, kind: 'not-present', level: null, entryAddress: null, entry: null, reason: tr.why || 'no translation', walk: [] };
    return { ok: true, va, pa: tr.pa, pageSize, walk: [] };
  }

  async function read(va: bigint, length: number): Promise<StrictRead> {
    const data = new Uint8Array(length);
    const faults: ReadFault[] = [];
    let done = 0;
    const fault = (n: number, kind: ReadFault['kind'], reason: string) => {
      const last = faults[faults.length - 1];
      if (last && last.offset + last.length === done && last.kind === kind && last.reason === reason) last.length += n;
      else faults.push({ offset: done, length: n, kind, reason, address: (va + BigInt(done)) & mask });
    };
    while (done < length) {
      const at = (va + BigInt(done)) & mask;
      const inPage = pageSize - Number(at % BigInt(pageSize));
      const n = Math.min(inPage, length - done);
      const tr = await walkOne(at);
      if (tr.cc === 0) {
        fault(n, 'not-present', `VA 0x${at.toString(16)} has no translation: ${tr.why || 'not mapped'}`);
      } else if (!inSegment(tr.pa, n)) {
        fault(n, 'outside-segments', `VA 0x${at.toString(16)} maps to PA 0x${tr.pa.toString(16)}, in no memory segment of the dump`);
      } else {
        const got = await preadFully(dump, data.subarray(done, done + n), kd.pa2off(tr.pa));
        if (got !== n) {
          data.fill(0, done, done + n);
          fault(n, 'eof', `the dump ends before PA 0x${tr.pa.toString(16)}`);
        }
      }
      done += n;
    }
    return { data, faults };
  }

  return { pointerSize: kd.longSize, littleEndian: machine.littleEndian, translate, read };
}
