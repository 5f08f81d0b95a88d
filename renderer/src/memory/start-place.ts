// Where the Memory view opens: where the analyst last was in this dump, else where it crashed (the
// panicking frame's PC, when the debug kernel gave a stack), else the start of the kernel's text —
// never VA 0, an unmapped row and a fault.

import type { KvmdumpApi } from '../../../contract/client.ts';

const PREFIX = 'kvmdump-workbench/place/';

/** The dump's identity for remembering a place: path and header offset (a core file has none). */
export function placeKey(dumpPath: string, dumpOffset: number | null): string {
  return `${PREFIX}${dumpPath}|${dumpOffset ?? ''}`;
}

export function rememberPlace(key: string, cursor: bigint): void {
  try {
    localStorage.setItem(key, cursor.toString());
  } catch {
    // storage full or denied: the place is a convenience, not evidence
  }
}

export function recalledPlace(key: string): bigint | null {
  const v = localStorage.getItem(key);
  return v && /^\d+$/.test(v) ? BigInt(v) : null;
}

/** The lowest function symbol: the start of the kernel's text. */
export async function textStart(api: KvmdumpApi, sessionId: string): Promise<bigint | null> {
  const r = await api.symbolPage({ sessionId, query: '', sort: 'address', descending: false, offset: 0, limit: 200 });
  if (!r.ok) return null;
  const fn = r.value.symbols.find((s) => s.type === 'func' && BigInt(s.value) !== 0n);
  return fn ? BigInt(fn.value) : null;
}
