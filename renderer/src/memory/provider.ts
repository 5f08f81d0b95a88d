// What the hex grid asks for: rows of bytes at addresses. The grid knows nothing about how the
// bytes are found (translation, files, caches); a provider does. A byte that cannot be read is a
// fault with its reason, never a zero.

export interface ByteFault {
  /** First address that failed (the start of the unreadable run). */
  at: bigint;
  reason: string;
  kind: 'unmapped' | 'not-in-dump' | 'eof' | 'io' | 'error';
}

export type HexCell = { value: number } | { fault: ByteFault };

export interface HexRow {
  address: bigint;
  cells: HexCell[];
}

export interface RowProvider {
  readonly bytesPerRow: number;
  /** Highest address + 1 the provider covers (2^64 for kernel virtual memory). */
  readonly limit: bigint;
  rows(start: bigint, count: number): Promise<HexRow[]>;
}

export const isFault = (c: HexCell): c is { fault: ByteFault } => 'fault' in c;
