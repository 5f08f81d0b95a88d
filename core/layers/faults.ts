// Building a StrictRead: a zeroed buffer the size of the request, filled where bytes were had,
// with the fault ranges kept sorted, disjoint and merged.

import type { ReadFault, StrictRead } from './types.ts';

/** Where a read puts its bytes and reports its faults (a StrictReadBuilder, or an adapter over one). */
export interface ReadTarget {
  readonly data: Uint8Array;
  fault(fault: ReadFault): void;
}

export class StrictReadBuilder implements ReadTarget {
  readonly data: Uint8Array;
  private readonly faults: ReadFault[] = [];

  constructor(length: number) {
    this.data = new Uint8Array(length);
  }

  /**
   * Record a fault at [offset, offset + length). Faults must be added in increasing offset order;
   * one that directly follows a fault of the same kind and errno extends it (its first reason,
   * address and walk describe where the range starts).
   */
  fault(fault: ReadFault): void {
    if (fault.length <= 0) return;
    const last = this.faults.at(-1);
    if (last && last.offset + last.length === fault.offset && last.kind === fault.kind && last.errno === fault.errno) {
      this.faults[this.faults.length - 1] = { ...last, length: last.length + fault.length };
      return;
    }
    this.faults.push(fault);
  }

  /** Copy the faults of a read of a lower layer made for [offset, …) of this one. */
  faultsFrom(inner: StrictRead, offset: number, address: (innerOffset: number) => bigint): void {
    for (const f of inner.faults) this.fault({ ...f, offset: offset + f.offset, address: address(f.offset) });
  }

  finish(): StrictRead {
    // Bytes under a fault stay zero (the lower layer already zeroed them; this keeps it true).
    for (const f of this.faults) this.data.fill(0, f.offset, f.offset + f.length);
    return { data: this.data, faults: this.faults };
  }
}

/** A read every byte of which faulted for one reason. */
export function wholeFault(length: number, fault: Omit<ReadFault, 'offset' | 'length'>): StrictRead {
  const b = new StrictReadBuilder(length);
  b.fault({ ...fault, offset: 0, length });
  return b.finish();
}

/** 0x-prefixed lower-case hex, as every reason prints addresses. */
export function hex(v: bigint | number): string {
  return `0x${v.toString(16)}`;
}
