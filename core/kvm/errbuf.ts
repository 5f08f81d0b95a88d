// libkvm's error reporting (spec 4.2) plus the structured detail the rest of the app needs.
// Under kvm_openfiles kd->program is NULL, so every message lands in errbuf and the last one wins.

import { strerror, type Errno } from '../errno.ts';

/** Where and why an operation failed: the NetBSD text plus the offset/field a user can act on. */
export interface KvmFault {
  /** Exactly what kvm_geterr() holds after the failure. */
  message: string;
  /** The operation that failed: 'open', 'mkheader', 'wrtheader', 'inval', 'read', 'kvatop', 'nlist'. */
  op: string;
  /** Byte offset in the dump (or core) file the failure is about, when there is one. */
  offset?: number;
  /** The header field at fault, e.g. 'kcore_seg.c_midmag.magic' or 'cpu_kcore_hdr.c_size'. */
  field?: string;
  expected?: string;
  found?: string;
  /** Virtual / physical address involved in a translation failure. */
  va?: bigint;
  pa?: bigint;
  errno?: Errno;
}

export type FaultDetail = Omit<KvmFault, 'message' | 'op'>;

/** errbuf, errno and the structured last fault of one handle. */
export class ErrorState {
  /** The handle's view of errno: set where the C code would set it, left alone elsewhere. */
  errno: Errno = 0;
  private buf = '';
  private fault: KvmFault | null = null;
  op = 'open';

  get text(): string {
    return this.buf;
  }
  get lastFault(): KvmFault | null {
    return this.fault;
  }

  /** _kvm_err(kd, NULL, fmt, …). errbuf is 2048 bytes (_POSIX2_LINE_MAX) in C. */
  err(message: string, detail: FaultDetail = {}): void {
    this.buf = message.length > 2047 ? message.slice(0, 2047) : message;
    this.fault = { message: this.buf, op: this.op, ...detail };
  }

  /** _kvm_syserr: message + ": " + strerror(errno). */
  syserr(message: string, detail: FaultDetail = {}): void {
    this.err(`${message}: ${strerror(this.errno)}`, { errno: this.errno, ...detail });
  }

  /** Add detail to the fault already recorded (the C message stays as it is). */
  annotate(detail: FaultDetail): void {
    if (this.fault) Object.assign(this.fault, detail);
  }
}
