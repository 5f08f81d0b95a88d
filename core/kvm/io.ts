// _kvm_pread and the Pread wrapper (spec 4.4, 4.5), including their quirks: a regular file is
// "mapped" (reads past its end fail with EINVAL), character devices read through a 512-byte bounce
// buffer whose failed pread counts as success with stale contents.

import { errnoOf } from '../errno.ts';
import type { DumpSource } from '../source.ts';
import type { ErrorState } from './errbuf.ts';

export const DEV_BSIZE = 512;
/** Kept page-table entries before the cache starts over. */
const ENTRY_LIMIT = 1 << 16;

export class DumpIo {
  /** 512 for character devices, else 1 (kvm.c 1.110 _kvm_open). */
  readonly fdalign: number;
  /** Set once the open has finished: libkvm mmaps regular files after reading the header. */
  mapped = false;
  private iobuf = new Uint8Array(0);
  /** Page-table entries read whole from the mapped file, by offset (see preadEntry). */
  private readonly entries = new Map<number, Uint8Array>();

  constructor(
    readonly source: DumpSource,
    private readonly errs: ErrorState,
  ) {
    this.fdalign = source.kind === 'chardev' ? DEV_BSIZE : 1;
  }

  /** After _kvm_get_header: mmap(2) succeeds only for a non-empty regular file. */
  mapIfRegularFile(): void {
    this.mapped = this.source.kind === 'file' && this.source.size > 0;
  }

  /** _kvm_pread: count read, or -1 with errs.errno set. Short reads are passed through. */
  async pread(buf: Uint8Array, off: number): Promise<number> {
    const size = buf.length;
    if (this.mapped) {
      if (size + off > this.source.size) {
        this.errs.errno = 'EINVAL';
        return -1;
      }
      return this.rawPread(buf, off);
    }
    if (off % this.fdalign === 0 && size % this.fdalign === 0) return this.rawPread(buf, off);
    return this.bouncePread(buf, off);
  }

  /** Pread: _kvm_pread with errno cleared first and "Pread: <strerror>" reported on a failed short read. */
  async preadReporting(buf: Uint8Array, off: number): Promise<number> {
    this.errs.errno = 0;
    const n = await this.pread(buf, off);
    if (n !== buf.length && this.errs.errno !== 0) this.errs.syserr('Pread', { offset: off });
    return n;
  }

  /**
   * _kvm_pread of a page-table entry during a walk. libkvm reads a mapped regular file through
   * memory, so walking costs no system call; here every entry would be a read of the source. An
   * entry read whole from a mapped file is kept and answered again without reading; anything else
   * (a device, a short or failed read) goes to _kvm_pread every time, quirks and all. A pwrite
   * forgets every kept entry.
   */
  async preadEntry(buf: Uint8Array, off: number): Promise<number> {
    if (!this.mapped) return this.pread(buf, off);
    const key = off * 8 + buf.length;
    const kept = Number.isSafeInteger(key) ? this.entries.get(key) : undefined;
    if (kept) {
      buf.set(kept);
      return buf.length;
    }
    const n = await this.pread(buf, off);
    if (n === buf.length && Number.isSafeInteger(key)) {
      if (this.entries.size >= ENTRY_LIMIT) this.entries.clear();
      this.entries.set(key, buf.slice());
    }
    return n;
  }

  /** pwrite(2) on the descriptor itself, bypassing the private mapping (kvm_dump_inval). */
  async pwrite(buf: Uint8Array, off: number): Promise<number> {
    this.entries.clear();
    if (!this.source.pwrite) {
      this.errs.errno = 'EBADF'; // the dump was opened O_RDONLY
      return -1;
    }
    try {
      return await this.source.pwrite(buf, off);
    } catch (e) {
      this.errs.errno = errnoOf(e);
      return -1;
    }
  }

  private async rawPread(buf: Uint8Array, off: number): Promise<number> {
    try {
      let done = 0;
      while (done < buf.length) {
        const n = await this.source.pread(buf.subarray(done), off + done);
        if (n <= 0) break;
        done += n;
      }
      return done;
    } catch (e) {
      this.errs.errno = errnoOf(e);
      return -1;
    }
  }

  private async bouncePread(buf: Uint8Array, off: number): Promise<number> {
    const align = this.fdalign;
    const moff = off % align;
    const doff = off - moff;
    const dsize = Math.ceil((moff + buf.length) / align) * align;
    if (this.iobuf.length < dsize) {
      const grown = new Uint8Array(dsize);
      grown.set(this.iobuf);
      this.iobuf = grown;
    }
    const rv = await this.rawPread(this.iobuf.subarray(0, dsize), doff);
    // Quirk (spec 4.4): rv is signed, size + moff unsigned, so rv == -1 is *not* short and the
    // stale bounce buffer is returned as if read.
    if (rv !== -1 && rv < buf.length + moff) return -1;
    buf.set(this.iobuf.subarray(moff, moff + buf.length));
    return buf.length;
  }
}
