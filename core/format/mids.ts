// Machine IDs (sys/sys/aout_mids.h 1.7, spec 2.3). The stale exec_aout.h values (151, 152) are wrong.

export const MID = {
  ZERO: 0x000,
  I386: 0x086,
  M68K: 0x087,
  M68K4K: 0x088,
  NS32532: 0x089,
  SPARC: 0x08a,
  PMAX: 0x08b,
  VAX1K: 0x08c,
  ALPHA: 0x08d,
  MIPS: 0x08e,
  ARM6: 0x08f,
  M680002K: 0x090,
  SH3: 0x091,
  POWERPC64: 0x094,
  POWERPC: 0x095,
  VAX: 0x096,
  MIPS1: 0x097,
  MIPS2: 0x098,
  M88K: 0x099,
  HPPA: 0x09a,
  SH5_64: 0x09b,
  SPARC64: 0x09c,
  X86_64: 0x09d,
  SH5_32: 0x09e,
  IA64: 0x09f,
  AARCH64: 0x0b7,
  OR1K: 0x0b8,
  RISCV: 0x0b9,
  HP200: 0x0c8,
  HP300: 0x12c,
  HPUX800: 0x20b,
  HPUX: 0x20c,
} as const;

const NAMES = new Map<number, string>(Object.entries(MID).map(([k, v]) => [v, `MID_${k}`]));

/** "MID_X86_64" for 157; "MID 0x1ff" for an unknown value. */
export function midName(mid: number): string {
  return NAMES.get(mid) ?? `MID 0x${mid.toString(16)}`;
}
