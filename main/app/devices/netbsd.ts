// NetBSD disks from `sysctl -n hw.disknames`: the raw whole-disk node and the swap partition ('b'),
// where dumps normally are; wedges (dkN) are listed as they are.

import type { RawDevice } from './linux.ts';

/** The raw partition letter covering the whole disk: 'd' on x86, 'c' elsewhere. */
export function rawPartition(arch: string): 'c' | 'd' {
  return arch === 'x64' || arch === 'ia32' || arch === 'x86_64' || arch === 'i386' || arch === 'amd64' ? 'd' : 'c';
}

export function parseDisknames(text: string, arch: string): RawDevice[] {
  const out: RawDevice[] = [];
  for (const name of text.trim().split(/\s+/).filter(Boolean)) {
    if (/^(cd|fd|md|vnd)\d+/.test(name)) continue;
    if (/^dk\d+$/.test(name)) {
      out.push({ path: `/dev/r${name}`, name, kind: 'partition', size: 0, model: null, removable: null, parent: null });
      continue;
    }
    const disk = `/dev/r${name}${rawPartition(arch)}`;
    out.push({ path: disk, name, kind: 'disk', size: 0, model: null, removable: null, parent: null });
    out.push({ path: `/dev/r${name}b`, name: `${name}b (swap)`, kind: 'partition', size: 0, model: null, removable: null, parent: disk });
  }
  return out;
}
