// NetBSD's nlist(3) over an ELF kernel image (spec section 6): __fdnlist's machine checks, the
// request-name matching (one leading '_' dropped) and the symbol scan with its duplicate-name
// quirk, reporting a.out n_type codes. It reads the ELF header and symbol table through elf.ts,
// which knows nothing of nlist (the import runs one way only).

import type { DumpSource } from '../source.ts';
import {
  readElfHeader,
  loadSymbolTable,
  readWord,
  symFieldOffsets,
  STB_LOCAL,
  STT_FILE,
  STT_FUNC,
  STT_NOTYPE,
  STT_OBJECT,
  type ElfClass,
  type ElfHeader,
  type SymbolTable,
} from './elf.ts';
import { utf8Encode } from './utf8.ts';

/** a.out type codes nlist reports (include/nlist.h, spec 6.2). */
export const N_UNDF = 0x00;
export const N_ABS = 0x02;
export const N_TEXT = 0x04;
export const N_DATA = 0x06;
export const N_BSS = 0x08;
export const N_FN = 0x1e;
export const N_EXT = 0x01;

export interface AcceptedMachine {
  elfClass: ElfClass;
  elfMachines: readonly number[];
}

export interface NlistOptions {
  /** The ELF readers compiled in and their MACHDEP_ID_CASES (spec 6.1, 6.3 step 4). */
  acceptedMachines: readonly AcceptedMachine[];
}

export interface NlistEntry {
  name: string;
  type: number;
  value: bigint;
  found: boolean;
}

export interface NlistResult {
  /** __fdnlist's return: entries not matched (spec 6.3 step 11), or -1 for an unusable file. */
  result: number;
  entries: NlistEntry[];
  /** Why the result is -1 (NetBSD itself only says "bad namelist"). */
  reason?: string;
}

/**
 * The name a request entry is compared with: one leading '_' removed (spec 6.3 step 10), as C
 * bytes (a NUL inside the JS string ends the C string).
 */
function wantedBytes(requestName: string): Uint8Array {
  const bytes = utf8Encode(requestName.startsWith('_') ? requestName.slice(1) : requestName);
  const nul = bytes.indexOf(0);
  return nul < 0 ? bytes : bytes.subarray(0, nul);
}

/** Entries before the terminator: the list ends at the first empty name (spec 6.2). */
function activeRequestCount(names: readonly string[]): number {
  const end = names.indexOf('');
  return end < 0 ? names.length : end;
}

/**
 * strcmp(strtab + nameOff, want) == 0. A name running off the end of the string table ends
 * there (C would read on into the mapping: undefined, so we pick the bounded reading).
 */
function nameEquals(strtab: Uint8Array, nameOff: number, want: Uint8Array): boolean {
  const len = want.length;
  if (nameOff + len > strtab.length) return false;
  for (let k = 0; k < len; k++) if (strtab[nameOff + k] !== want[k]) return false;
  const end = nameOff + len;
  return end === strtab.length || strtab[end] === 0;
}

/** n_type from an ELF symbol (spec 6.3 step 10): other ELF types keep the entry's old n_type. */
function nlistType(previous: number, stInfo: number): number {
  let type: number;
  switch (stInfo & 0xf) {
    case STT_NOTYPE:
      type = N_UNDF;
      break;
    case STT_OBJECT:
      type = N_DATA;
      break;
    case STT_FUNC:
      type = N_TEXT;
      break;
    case STT_FILE:
      type = N_FN;
      break;
    default:
      type = previous;
  }
  return stInfo >> 4 !== STB_LOCAL ? type | N_EXT : type;
}

function unmatchedEntries(names: readonly string[]): NlistEntry[] {
  return names.map((name) => ({ name, type: 0, value: 0n, found: false }));
}

function failure(names: readonly string[], reason: string): NlistResult {
  return { result: -1, entries: unmatchedEntries(names), reason };
}

/** Why no compiled-in ELF reader takes this file (spec 6.1, 6.3 steps 3–4), or null if one does. */
function machineRejection(h: ElfHeader, accepted: readonly AcceptedMachine[]): string | null {
  const readers = accepted.filter((a) => a.elfClass === h.elfClass);
  if (readers.length === 0) return `ELF${h.elfClass} not accepted on this architecture`;
  const machines = readers.flatMap((a) => a.elfMachines);
  if (machines.includes(h.machine)) return null;
  return `e_machine ${h.machine} not accepted (expected ${machines.join(' or ')})`;
}

/**
 * The symbol scan (spec 6.3 steps 9–11), duplicate quirk included: every symbol updates the first
 * request entry it matches, found or not, and each match decrements the count until it is <= 0.
 */
function scanSymbols(table: SymbolTable, names: readonly string[]): NlistResult {
  const entries = unmatchedEntries(names);
  const active = activeRequestCount(names);
  const wants = names.slice(0, active).map(wantedBytes);
  const { symtab, strtab, symentsize, nsyms, header } = table;
  const { elfClass: cls, littleEndian: le } = header;
  const f = symFieldOffsets(cls);
  let nent = active;
  if (nent === 0) return { result: 0, entries };
  scan: for (let i = 0; i < nsyms; i++) {
    const base = i * symentsize;
    const nameOff = symtab.getUint32(base + f.name, le);
    if (nameOff >= strtab.length) continue;
    for (let r = 0; r < active; r++) {
      if (!nameEquals(strtab, nameOff, wants[r])) continue;
      const e = entries[r];
      e.value = readWord(symtab, base + f.value, cls, le);
      e.type = nlistType(e.type, symtab.getUint8(base + f.info));
      e.found = true;
      if (--nent <= 0) break scan;
      break; // only the first matching entry per symbol
    }
  }
  return { result: nent, entries };
}

/**
 * __fdnlist over an ELF file. NetBSD tries ELF32 then ELF64, each rejecting a file of the other
 * class by its class byte; since a file has one class, checking that class against the accepted
 * readers is the same thing.
 */
export async function fdnlist(src: DumpSource, names: string[], opts: NlistOptions): Promise<NlistResult> {
  const parsed = await readElfHeader(src);
  if (!parsed.ok) return failure(names, parsed.reason);
  const h = parsed.header;
  const rejected = machineRejection(h, opts.acceptedMachines);
  if (rejected) return failure(names, rejected);
  if (src.kind === 'chardev') {
    return failure(names, 'character device: NetBSD would query /dev/ksyms (spec 6.4), not modelled');
  }
  const table = await loadSymbolTable(src, h);
  if (!table.ok) return failure(names, table.reason);
  return scanSymbols(table.value, names);
}
