// Where each header field is, in bytes: the dump-device header (format A: CPU kcore_seg, then the
// machine's cpu_kcore_hdr and its memory segments) or a savecore core's (format B: kcore_hdr, CPU
// kcore_seg, CPU data, DATA kcore_seg). The Header view shows these bytes next to the decoded
// fields and links each field to its bytes (spec 1.1, 1.2, 3.x).

import { alignUp, KCORE_HDR_SIZE, KCORE_SEG_SIZE, PHYS_RAM_SEG_SIZE } from './kcore.ts';

export interface HeaderFieldPlace {
  group: string;
  name: string;
  /** From the header's first byte. */
  offset: number;
  length: number;
  /** 'be' for c_midmag (big-endian everywhere), else the machine's order. */
  order: 'be' | 'native';
}

export interface HeaderLayoutInput {
  isCoreFile: boolean;
  machine: 'amd64' | 'i386' | 'i386pae' | 'aarch64';
  /** The machine's __ALIGNBYTES (7 amd64, 3 i386, 15 aarch64). */
  alignBytes: number;
  cpuDataSize: number;
  /** Segments listed in the CPU header (bounded by the caller). */
  segmentCount: number;
  /** Format B only: c_hdrsize and c_seghdrsize as read. */
  hdrSize?: number;
  segHdrSize?: number;
}

/** cpu_kcore_hdr fields and where its phys_ram_seg_t array starts, per machine (core/machines). */
const CPU_HEADERS: Record<HeaderLayoutInput['machine'], { fields: [string, number, number][]; segmentsAt: number }> = {
  amd64: { fields: [['ptdpaddr', 0, 8], ['nmemsegs', 8, 8]], segmentsAt: 16 },
  i386: { fields: [['pdppaddr', 0, 4], ['nmemsegs', 4, 4]], segmentsAt: 8 },
  i386pae: { fields: [['pdppaddr', 0, 4], ['nmemsegs', 4, 4]], segmentsAt: 8 },
  aarch64: { fields: [['kh_tcr1', 0, 8], ['kh_ttbr1', 8, 8], ['kh_nramsegs', 16, 8]], segmentsAt: 24 },
};

/** Every field of the header, in file order, and the header's length. */
export function headerLayout(h: HeaderLayoutInput): { fields: HeaderFieldPlace[]; length: number } {
  const fields: HeaderFieldPlace[] = [];
  const seg = (group: string, at: number) => {
    fields.push({ group, name: 'c_midmag', offset: at, length: 4, order: 'be' });
    fields.push({ group, name: 'c_size', offset: at + 4, length: 4, order: 'native' });
  };
  let cpuAt: number;
  let end: number;
  if (h.isCoreFile) {
    const hdrSize = h.hdrSize ?? alignUp(KCORE_HDR_SIZE, h.alignBytes);
    const segHdrSize = h.segHdrSize ?? alignUp(KCORE_SEG_SIZE, h.alignBytes);
    fields.push({ group: 'kcore_hdr', name: 'c_midmag', offset: 0, length: 4, order: 'be' });
    fields.push({ group: 'kcore_hdr', name: 'c_hdrsize', offset: 4, length: 2, order: 'native' });
    fields.push({ group: 'kcore_hdr', name: 'c_seghdrsize', offset: 6, length: 2, order: 'native' });
    fields.push({ group: 'kcore_hdr', name: 'c_nseg', offset: 8, length: 4, order: 'native' });
    seg('kcore_seg (CPU)', hdrSize);
    cpuAt = hdrSize + segHdrSize;
    const dataSeg = cpuAt + alignUp(h.cpuDataSize, h.alignBytes);
    end = dataSeg + segHdrSize;
    cpuFields(fields, h, cpuAt);
    seg('kcore_seg (DATA)', dataSeg);
  } else {
    seg('kcore_seg (CPU)', 0);
    cpuAt = alignUp(KCORE_SEG_SIZE, h.alignBytes);
    end = cpuAt + h.cpuDataSize;
    cpuFields(fields, h, cpuAt);
  }
  return { fields: fields.sort((a, b) => a.offset - b.offset), length: end };
}

function cpuFields(out: HeaderFieldPlace[], h: HeaderLayoutInput, cpuAt: number): void {
  const cpu = CPU_HEADERS[h.machine];
  for (const [name, off, len] of cpu.fields) {
    if (off + len <= h.cpuDataSize) out.push({ group: 'cpu_kcore_hdr', name, offset: cpuAt + off, length: len, order: 'native' });
  }
  for (let i = 0; i < h.segmentCount; i++) {
    const at = cpu.segmentsAt + i * PHYS_RAM_SEG_SIZE;
    if (at + PHYS_RAM_SEG_SIZE > h.cpuDataSize) break;
    out.push({ group: `phys_ram_seg[${i}]`, name: 'start', offset: cpuAt + at, length: 8, order: 'native' });
    out.push({ group: `phys_ram_seg[${i}]`, name: 'size', offset: cpuAt + at + 8, length: 8, order: 'native' });
  }
}

/** A field's value from the header bytes, as hex. */
export function fieldValue(bytes: Uint8Array, f: HeaderFieldPlace, littleEndian: boolean): string | null {
  if (f.offset + f.length > bytes.length) return null;
  let v = 0n;
  const le = f.order === 'native' && littleEndian;
  for (let i = 0; i < f.length; i++) {
    const b = BigInt(bytes[f.offset + (le ? f.length - 1 - i : i)]!);
    v = (v << 8n) | b;
  }
  return `0x${v.toString(16)}`;
}
