// An interim STRICT VirtualSpace over a Kvm handle, until the strict layers of issue 8 land: each
// page is translated by the handle's own walk, its PA must lie in a memory segment (libkvm's
// pa2off would otherwise send it to the end of the dump), and a short read is a fault. Nothing
// here ever returns bytes that are not the dump's memory at that address.

import type { Kvm } from '../kvm/handle.ts';
import type { DumpSource } from '../source.ts';
import { preadFully } from '../source.ts';
import type { ReadFault, StrictRead, Translation, VirtualSpace } from '../layers/types.ts';

export function kvmVirtualSpace(kd: Kvm, dump: DumpSource): VirtualSpace {
  const machine = kd.machineModule;
  if (!machine || !kd.machine) throw new Error('no dump header: no memory to read');
  const pageSize = machine.pageSize;
  const segments = kd.machine.segments;
  const mask = (1n << BigInt(kd.longSize * 8)) - 1n;
  const inSegment = (pa: bigint, n: number) => segments.some((s) => pa >= s.start && pa + BigInt(n) <= s.start + s.size);

  async function translate(va: bigint): Promise<Translation> {
    const tr = await kd.kvatop(va & mask);
    if (tr.cc === 0) return { ok: false, va, kind: 'not-present', level: null, entryAddress: null, entry: null, reason: kd.geterr() || 'no translation', walk: [] };
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
      const tr = await kd.kvatop(at);
      if (tr.cc === 0) {
        fault(n, 'not-present', `VA 0x${at.toString(16)} has no translation: ${kd.geterr() || 'not mapped'}`);
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
