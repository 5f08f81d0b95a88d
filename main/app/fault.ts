// KvmFault (bigints, core's shape) → FaultInfo (the contract's JSON shape).

import type { KvmFault } from '../../core/kvm.ts';
import type { FaultInfo } from '../../contract/errors.ts';
import { toHexAddress } from '../../contract/values.ts';

export function faultInfo(f: KvmFault | null | undefined): FaultInfo | null {
  if (!f) return null;
  const out: FaultInfo = { message: f.message, op: f.op };
  if (f.offset !== undefined) out.offset = f.offset;
  if (f.field !== undefined) out.field = f.field;
  if (f.expected !== undefined) out.expected = f.expected;
  if (f.found !== undefined) out.found = f.found;
  if (f.va !== undefined) out.va = toHexAddress(f.va);
  if (f.pa !== undefined) out.pa = toHexAddress(f.pa);
  if (f.errno !== undefined && f.errno !== 0) out.errno = f.errno;
  return out;
}
