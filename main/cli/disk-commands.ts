// `kvmdump disks DEVICE|IMAGE`: the partition map and the dumps found in it.

import { sizeText } from '../../core/partitions/index.ts';
import { surveyDisk } from '../disks/survey.ts';
import { openSource } from '../sources/node-source.ts';
import { openDiskSource } from '../session/disk-source.ts';
import { isImageSet, verifyImage, type ImageVerification } from '../sources/image-set.ts';
import type { Emitter } from './output.ts';
import { indexProgressOnTerminal } from './open.ts';

export async function disksCommand(args: { device: string; all?: boolean; kernel?: string; quick?: boolean; verifyImage?: boolean; maxBytes?: number }, out: Emitter): Promise<number> {
  let src;
  let kernel = null;
  try {
    src = await openDiskSource(args.device, { onIndexProgress: indexProgressOnTerminal(args.device) });
    if (args.kernel) kernel = await openSource(args.kernel);
  } catch (e) {
    const error = (e as Error).message;
    await src?.close();
    out.result({ device: args.device, error }, () => [`kvmdump: ${error}`]);
    return 1;
  }
  try {
    const s = await surveyDisk(src, { allPartitions: args.all, kernel, quick: args.quick, maxBytesPerPartition: args.maxBytes });
    let verification: ImageVerification | null = null;
    // a gzip image stores no MD5/SHA-1: its CRC-32s were checked when it was indexed
    if (args.verifyImage && isImageSet(src) && src.image.format !== 'gzip') verification = await verifyImage(src);
    const image = isImageSet(src)
      ? {
          format: src.image.format, files: src.image.files,
          ...(src.image.compressedSize !== undefined ? { compressedSize: src.image.compressedSize } : {}),
          ...(src.image.ewf ? { storedMd5: src.image.ewf.md5, storedSha1: src.image.ewf.sha1, chunkSize: src.image.ewf.chunkSize } : {}),
          ...(args.verifyImage ? { verification } : {}),
        }
      : null;
    const result = {
      device: args.device, size: s.size, image, schemes: s.map.schemes, warnings: s.map.warnings,
      partitions: s.map.partitions, searched: s.searched, notes: s.notes, bytesRead: s.bytesRead,
      dumps: s.dumps.map((d) => ({
        partition: d.partition?.id ?? null, partitionName: d.partition?.name ?? null, partitionType: d.partition?.typeName ?? null,
        partitionStart: d.partition?.start ?? 0, partitionSize: d.partition?.size ?? s.size,
        dumplo: d.dumplo, offset: d.offset, machine: d.machine, headerSize: d.headerSize, segments: d.segments,
        memoryBytes: d.memoryBytes, placement: d.placement, crashTime: d.details?.crashTime ?? null,
        state: d.details?.state ?? 'unknown', stateNote: d.details?.note ?? 'not inspected (--quick)', summary: d.summary,
      })),
    };
    out.result(result, () => {
      const what = !image ? ''
        : image.format === 'gzip' ? ` (gzip image, ${sizeText(image.compressedSize ?? 0)} compressed)`
        : ` (${image.format === 'e01' ? 'E01' : 'split raw'} image, ${image.files.length} ${image.format === 'e01' ? 'segment ' : ''}files)`;
      const lines = [`${args.device}: ${sizeText(s.size)}, ${s.map.schemes.length ? s.map.schemes.map((x) => x.toUpperCase()).join(' + ') : 'no partition map'}${what}`];
      if (args.verifyImage && !image) lines.push('--verify-image: not an E01 or split raw image; nothing stored to verify against');
      if (args.verifyImage && image?.format === 'gzip') lines.push('--verify-image: a gzip image stores no MD5 or SHA-1; its CRC-32 and length were checked when it was indexed');
      if (verification) {
        const v = verification;
        const one = (k: 'md5' | 'sha1') => (v[k].stored === null ? `${k.toUpperCase()} not stored (computed ${v[k].computed})` : `${k.toUpperCase()} ${v[k].stored === v[k].computed ? 'matches' : `MISMATCH: stored ${v[k].stored}, computed ${v[k].computed}`}`);
        lines.push(`image verification: ${v.ok === null ? 'no stored hash' : v.ok ? 'ok' : 'FAILED'}; ${one('md5')}; ${one('sha1')}`);
      }
      for (const p of s.map.partitions) {
        lines.push(`  ${p.id.padEnd(3)} ${p.name.slice(0, 20).padEnd(20)} ${p.typeName.padEnd(28)} start ${p.start} size ${p.size} (${sizeText(p.size)})${p.raw ? ' [whole disk]' : ''}${p.truncated ? ' [past the end of the disk]' : ''}`);
      }
      for (const w of s.map.warnings) lines.push(`warning: ${w}`);
      for (const n of s.notes) lines.push(`note: ${n}`);
      if (s.dumps.length === 0) lines.push(s.map.partitions.length ? `no dump found in ${s.searched.length ? `partition${s.searched.length > 1 ? 's' : ''} ${s.searched.join(', ')}` : 'any NetBSD swap partition (try --all)'}` : 'no dump found');
      for (const d of result.dumps) {
        lines.push(`dump: ${d.summary}`);
        lines.push(`  dumplo ${d.dumplo} (relative to the partition), absolute offset ${d.offset}: open with --dump ${args.device}${d.partition ? ` --partition ${d.partition}` : ''} --dump-offset ${d.dumplo * 512}`);
      }
      return lines;
    });
    return verification?.ok === false ? 1 : 0;
  } catch (e) {
    const error = (e as Error).message;
    out.result({ device: args.device, error }, () => [`kvmdump: ${error}`]);
    return 1;
  } finally {
    await kernel?.close();
    await src.close();
  }
}
