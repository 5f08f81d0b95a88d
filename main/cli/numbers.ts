// Command-line numbers: decimal or 0x-hex, rejected with a message naming the option otherwise.

export class UsageError extends Error {
  override name = 'UsageError';
}

const NUMBER = /^(0x[0-9a-f]+|[0-9]+)$/i;

/** A non-negative byte offset or size that fits a JS number exactly. */
export function parseByteCount(text: string, option: string): number {
  const v = parseBigNumber(text, option);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new UsageError(`${option}: ${text} is too large`);
  return Number(v);
}

/** A 64-bit address (VA or PA). */
export function parseAddress(text: string, option: string): bigint {
  const v = parseBigNumber(text, option);
  if (v >= 1n << 64n) throw new UsageError(`${option}: ${text} does not fit in 64 bits`);
  return v;
}

/** A C int argument (kvm_dump_wrtheader's dumpsize): -2^31 .. 2^32-1, kept as its u32 bit pattern semantics. */
export function parseCInt(text: string, option: string): number {
  const neg = text.startsWith('-');
  const v = parseBigNumber(neg ? text.slice(1) : text, option);
  const signed = neg ? -v : v;
  if (signed < -(1n << 31n) || signed >= 1n << 32n) throw new UsageError(`${option}: ${text} does not fit in a 32-bit int`);
  return Number(BigInt.asIntN(32, signed));
}

function parseBigNumber(text: string, option: string): bigint {
  const t = text.trim();
  if (!NUMBER.test(t)) throw new UsageError(`${option}: '${text}' is not a number (use decimal or 0x-hex)`);
  return BigInt(t);
}
