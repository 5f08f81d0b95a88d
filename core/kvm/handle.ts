// The kvm handle for crash dumps: NetBSD libkvm's kvm_dump_mkheader, kvm_dump_wrtheader,
// kvm_dump_inval, kvm_read, _kvm_kvatop/_kvm_pa2off and kvm_nlist (kvm.c 1.110, spec sections
// 4–6), with the same return values and the same kvm_geterr() text. Quirks are kept on purpose
// and cite the spec section that demands them.

import { ByteView } from '../format/bytes.ts';
import { readElfHeader } from '../format/elf.ts';
import { fdnlist, type NlistResult } from '../format/nlist.ts';
import { alignUp, KCORE_MAGIC, KCORE_SEG_SIZE, readMidMag, type KcoreHdr } from '../format/kcore.ts';
import { midName } from '../format/mids.ts';
import { machineByName, MACHINES } from '../machines/index.ts';
import {
  TRANSLATION_FAILED, type MachineModule, type MachineName, type MachineState, type Translation,
  type WalkContext,
} from '../machines/machine.ts';
import type { ByteSink, DumpSource } from '../source.ts';
import { ErrorState, type KvmFault } from './errbuf.ts';
import { DumpIo } from './io.ts';
import { acceptedMids, loadFormatB, moduleForMid, readCpuData, synthesizeKcoreHdr } from './header.ts';
import { writeCoreHeader } from './wrtheader.ts';

export interface KvmOpenOptions {
  /** The dump device, dump image, or savecore core file (pmfd). */
  dump: DumpSource;
  /** The kernel ELF image whose symbol table kvm_nlist reads (nlfd). */
  kernel?: DumpSource | null;
  /** Pin the architecture the way libkvm's compile-time MID_MACHINE does. */
  machine?: MachineName;
}

/** Where kvm_dump_inval wrote, for audit logs and the CLI. */
export interface InvalWrite {
  offset: number;
  length: number;
}

export class Kvm {
  private readonly errs = new ErrorState();
  private readonly io: DumpIo;
  /** The architecture libkvm is "compiled for": --machine, else the kernel image's, else none (the MID decides). */
  private pinned: MachineModule | undefined;
  private module: MachineModule | null = null;
  private state: MachineState | null = null;
  private kcoreHdrValue: KcoreHdr | null = null;
  private cpuDataValue: Uint8Array | null = null;
  private dumpOffValue = 0;
  /** The last successful kvm_dump_inval write. */
  lastInval: InvalWrite | null = null;

  private constructor(
    private readonly opts: KvmOpenOptions,
  ) {
    this.io = new DumpIo(opts.dump, this.errs);
    this.pinned = opts.machine ? machineByName(opts.machine) : undefined;
  }

  /** kvm_openfiles for a crash dump (spec 4.3): a format-B header at offset 0 is loaded silently. */
  static async open(opts: KvmOpenOptions): Promise<Kvm> {
    const kd = new Kvm(opts);
    kd.pinned ??= await machineOfKernel(opts.kernel ?? null);
    const loaded = await loadFormatB(kd.io, kd.errs, kd.pinned);
    if (loaded) {
      kd.install(loaded.module, loaded.kcoreHdr, loaded.cpuData);
      kd.dumpOffValue = loaded.dumpOff;
      kd.loadedFromCore = true;
    }
    kd.io.mapIfRegularFile();
    return kd;
  }

  // ---- state, for callers that present it ----------------------------------------------------

  /** kvm_geterr(). */
  geterr(): string {
    return this.errs.text;
  }
  /** The last failure with offset/field detail (null after open when nothing failed). */
  get lastFault(): KvmFault | null {
    return this.errs.lastFault;
  }
  get hasHeader(): boolean {
    return this.kcoreHdrValue !== null;
  }
  /** Header loaded from a savecore core file at open time (format B). */
  get isCoreFile(): boolean {
    return this.loadedFromCore;
  }
  private loadedFromCore = false;
  get machineModule(): MachineModule | null {
    return this.module;
  }
  get machine(): MachineState | null {
    return this.state;
  }
  /** kd->dump_off: the file offset of the first memory byte. */
  get dumpOff(): number {
    return this.dumpOffValue;
  }
  get cpuData(): Uint8Array | null {
    return this.cpuDataValue;
  }
  get cpuDsize(): number {
    return this.cpuDataValue?.length ?? 0;
  }
  get kcoreHdr(): KcoreHdr | null {
    return this.kcoreHdrValue;
  }
  get fdalign(): number {
    return this.io.fdalign;
  }
  get dumpSource(): DumpSource {
    return this.opts.dump;
  }
  get kernelSource(): DumpSource | null {
    return this.opts.kernel ?? null;
  }
  /** sizeof(u_long) of the crashed machine (the pinned one before a header is known, else 8). */
  get longSize(): 4 | 8 {
    return (this.module ?? this.pinned)?.longSize ?? 8;
  }

  // ---- kvm_dump_mkheader (spec 4.6) ----------------------------------------------------------

  async mkheader(dumpOff: number): Promise<number> {
    this.errs.op = 'mkheader';
    if (this.kcoreHdrValue) {
      this.errs.err('already has a dump header', { offset: 0, field: 'kcore_hdr' });
      return -1;
    }
    const seg = new Uint8Array(KCORE_SEG_SIZE);
    const count = await this.io.preadReporting(seg, dumpOff);
    if (count !== KCORE_SEG_SIZE) {
      this.reportShortSegRead(count, dumpOff);
      return -1;
    }
    const mm = readMidMag(seg);
    const module = mm.magic === KCORE_MAGIC ? moduleForMid(mm.mid, this.pinned) : undefined;
    if (!module) {
      this.errs.err('invalid magic in cpu_hdr', this.magicFaultDetail(dumpOff, mm.magic, mm.mid));
      return 0;
    }
    const cSize = new ByteView(seg, module.littleEndian).u32(4);
    let hdrSize = alignUp(KCORE_SEG_SIZE, module.alignBytes);
    const cpu = await readCpuData(this.io, this.errs, dumpOff + hdrSize, cSize, module);
    if ('noMemory' in cpu) {
      this.errs.err('no cpu_data', { offset: dumpOff + 4, field: 'kcore_seg.c_size', found: String(cSize) });
      return this.failHeader();
    }
    if (!('data' in cpu)) {
      // %zu: size_t is as wide as the libkvm build's long (4294967295 for -1 on i386).
      const printed = cpu.count < 0 ? BigInt.asUintN(module.longSize * 8, BigInt(cpu.count)) : cpu.count;
      this.errs.err(`size ${printed} != cpu_hdr.csize ${cSize}`, {
        offset: dumpOff + 4, field: 'kcore_seg.c_size', expected: `<= ${Math.max(0, this.opts.dump.size - dumpOff - hdrSize)} bytes available`, found: String(cSize),
      });
      return this.failHeader();
    }
    hdrSize += cSize;
    this.dumpOffValue = dumpOff + hdrSize;
    this.install(module, synthesizeKcoreHdr(module), cpu.data);
    return hdrSize | 0;
  }

  private reportShortSegRead(count: number, dumpOff: number): void {
    const at = dumpOff.toString(16);
    const detail = { offset: dumpOff, field: 'kcore_seg', expected: '8 bytes', found: `${count} bytes` };
    if (count === -1) {
      this.errs.syserr(`read 8 bytes at offset ${at} for cpu_hdr failed`, detail);
    } else {
      this.errs.err(`read ${count.toString(16)} bytes at offset ${at} for cpu_hdr instead of requested 8`, detail);
    }
  }

  private magicFaultDetail(dumpOff: number, magic: number, mid: number) {
    if (magic !== KCORE_MAGIC) {
      return { offset: dumpOff + 2, field: 'kcore_seg.c_midmag.magic', expected: '0x8fca (KCORE_MAGIC)', found: `0x${magic.toString(16)}` };
    }
    return { offset: dumpOff, field: 'kcore_seg.c_midmag.mid', expected: acceptedMids(this.pinned), found: `${midName(mid)} (${mid})` };
  }

  private failHeader(): number {
    this.kcoreHdrValue = null;
    this.cpuDataValue = null;
    this.module = null;
    this.state = null;
    return -1;
  }

  /** Set the header and run _kvm_initvtop (machine.open: per handle, spec 9.11). */
  private install(module: MachineModule, hdr: KcoreHdr, cpuData: Uint8Array): void {
    this.module = module;
    this.kcoreHdrValue = hdr;
    this.cpuDataValue = cpuData;
    this.state = module.open(cpuData);
  }

  // ---- kvm_dump_wrtheader (spec 4.7) ---------------------------------------------------------

  /** Returns the header length written (not 0 as kvm_dump(3) claims: spec 9.3), or -1. */
  async wrtheader(sink: ByteSink, dumpsize: number): Promise<number> {
    this.errs.op = 'wrtheader';
    if (!this.kcoreHdrValue || !this.cpuDataValue || !this.module) {
      this.errs.err('no valid dump header(s)');
      return -1;
    }
    return writeCoreHeader({
      sink, errs: this.errs, module: this.module, kcoreHdr: this.kcoreHdrValue, cpuData: this.cpuDataValue, dumpsize,
    });
  }

  // ---- kvm_dump_inval (spec 4.8) -------------------------------------------------------------

  async inval(): Promise<number> {
    this.errs.op = 'inval';
    this.lastInval = null;
    const nl = await this.nlistRaw(['_dumpmag']);
    if (nl.result === -1) {
      this.errs.err('bad namelist', { field: 'kernel ELF', found: nl.reason });
      return -1;
    }
    this.errs.op = 'inval';
    // A missing symbol is not an error: its value stays 0 and VA 0 is translated (spec 9.6).
    const tr = await this.kvatop(nl.entries[0]?.value ?? 0n);
    this.errs.op = 'inval';
    if (tr.cc === 0) return -1;
    this.errs.errno = 0;
    const dsize = Math.max(this.io.fdalign, this.longSize);
    const off = this.pa2off(tr.pa);
    const doff = off - (off % this.io.fdalign);
    const n = await this.io.pwrite(new Uint8Array(dsize), doff);
    if (n === -1) {
      this.errs.syserr('cannot invalidate dump - pwrite', { offset: doff, pa: tr.pa });
      return -1;
    }
    this.lastInval = { offset: doff, length: dsize };
    return 0;
  }

  // ---- kvm_read (spec 4.11) ------------------------------------------------------------------

  /** kvm_read: bytes copied into buf, or -1 when a page fails to translate (even after a partial copy). */
  async read(va: bigint, buf: Uint8Array): Promise<number> {
    this.errs.op = 'read';
    if (!this.state) {
      this.errs.err('no valid dump header');
      return -1;
    }
    let kva = this.toULong(va);
    let done = 0;
    while (done < buf.length) {
      const tr = await this.translate(kva);
      if (tr.cc === 0) {
        this.errs.err(`_kvm_kvatop(${kva.toString(16)})`, { va: kva });
        return -1;
      }
      const cc = Math.min(tr.cc, buf.length - done);
      const foff = this.pa2off(tr.pa);
      this.errs.errno = 0;
      const n = await this.io.pread(buf.subarray(done, done + cc), foff);
      if (n < 0) {
        this.errs.syserr('kvm_read', { va: kva, pa: tr.pa, offset: foff });
        break;
      }
      if (n === 0) break;
      done += n;
      kva = this.toULong(kva + BigInt(n));
    }
    return done;
  }

  // ---- translation (spec 5) ------------------------------------------------------------------

  /** _kvm_kvatop: {cc, pa}; cc 0 = failure with the reason in geterr(). */
  async kvatop(va: bigint): Promise<Translation> {
    this.errs.op = 'kvatop';
    if (!this.state) {
      // C would dereference a NULL cpu_data here; we refuse instead (documented deviation).
      this.errs.err('no valid dump header');
      return TRANSLATION_FAILED;
    }
    return this.translate(this.toULong(va));
  }

  /** _kvm_pa2off: the dump file offset of a physical address. */
  pa2off(pa: bigint): number {
    return this.dumpOffValue + (this.state ? this.state.pa2off(pa) : 0);
  }

  private async translate(va: bigint): Promise<Translation> {
    const tr = await this.state!.kvatop(this.walkContext, va);
    if (tr.cc === 0) {
      this.errs.annotate({ va });
      return TRANSLATION_FAILED;
    }
    return tr;
  }

  private readonly walkContext: WalkContext = {
    readEntry: async (pa, size) => {
      const buf = new Uint8Array(size);
      const off = this.pa2off(pa);
      if ((await this.io.pread(buf, off)) !== size) return null;
      return new ByteView(buf, this.module!.littleEndian).word(0, size);
    },
    err: (msg) => this.errs.err(msg),
    syserr: (msg) => this.errs.syserr(msg),
  };

  /** kvm_read's kva is a u_long: on ILP32 machines only the low 32 bits reach the walk. */
  private toULong(va: bigint): bigint {
    return BigInt.asUintN(this.longSize * 8, va);
  }

  // ---- kvm_nlist (spec 4.10, 6) --------------------------------------------------------------

  /** kvm_nlist: number of names not found, or -1 with "bad namelist". */
  async nlist(names: string[]): Promise<NlistResult> {
    this.errs.op = 'nlist';
    const res = await this.nlistRaw(names);
    if (res.result === -1) this.errs.err('bad namelist', { field: 'kernel ELF', found: res.reason });
    return res;
  }

  /**
   * A namelist found in the dump itself (its ksyms image), for when no kernel file was given: what
   * /dev/ksyms is to libkvm on the crashed machine. Never replaces a kernel file.
   */
  useNamelist(src: DumpSource): void {
    if (!this.opts.kernel) this.namelist = src;
  }
  private namelist: DumpSource | null = null;
  /** The namelist nlist reads: the kernel file, or the one found in the dump. */
  get namelistSource(): DumpSource | null {
    return this.opts.kernel ?? this.namelist;
  }

  private async nlistRaw(names: string[]): Promise<NlistResult> {
    const kernel = this.namelistSource;
    if (!kernel) {
      return { result: -1, entries: names.map((name) => ({ name, type: 0, value: 0n, found: false })), reason: 'no kernel file given' };
    }
    const accepted = this.pinned ? [this.pinned] : this.module ? [this.module] : MACHINES;
    return fdnlist(kernel, names, { acceptedMachines: accepted });
  }
}

/**
 * The architecture of the kernel image, if it is an ELF file of a supported machine. libkvm only
 * reads dumps of the machine it was compiled for, and the kernel given with the dump is that
 * machine: so an amd64 kernel with a dump whose header says MID_I386 gets "invalid magic in
 * cpu_hdr", exactly as on NetBSD/amd64.
 */
async function machineOfKernel(kernel: DumpSource | null): Promise<MachineModule | undefined> {
  if (!kernel) return undefined;
  const h = await readElfHeader(kernel).catch(() => null);
  if (!h?.ok) return undefined;
  return MACHINES.find((m) => m.elfClass === h.header.elfClass && m.elfMachines.includes(h.header.machine));
}
