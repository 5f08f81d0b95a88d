// sequential VA read: 256 MiB of kernel virtual memory (the direct map, 1 GiB pages) read in
// 1 MiB requests through the strict virtual layer (memoryLayers(kd).virtual.read: translation,
// segment lookup, fault bookkeeping) vs fs read of the same bytes at their file offsets, 1 MiB at
// a time into one buffer (and, reported alongside, into a fresh buffer per read). In process, alternating, medians; page cache warm. Target ≥ 0.5.
import { open } from 'node:fs/promises';
import { median } from '../lib/measure.mjs';
import { realisticDump } from '../lib/input.mjs';
import { loadCore } from '../lib/core.mjs';

const MIB = 1 << 20;
const CHUNK = MIB;

export default async function run(ctx) {
  const d = await realisticDump(ctx.workDir, ctx.memMiB, ctx.log);
  const core = await loadCore(ctx.workDir);
  const dump = await core.openSource(d.image);
  const kernel = await core.openSource(d.kernel);
  const fh = await open(d.image, 'r');
  try {
    const kd = await core.Kvm.open({ dump, kernel });
    if ((await kd.mkheader(d.headerOff)) <= 0) throw new Error(`mkheader: ${kd.geterr()}`);
    const top = Number(d.segments.at(-1).start + d.segments.at(-1).size);
    const length = Math.min(256 * MIB, Math.min(top, 1 << 30) - MIB) & ~(CHUNK - 1); // above the ISA hole, in the first 1 GiB page
    const va = d.layout.directMap.base + BigInt(MIB);
    const probe = core.memoryLayers(kd);
    const tr = await probe.virtual.translate(va);
    if (!tr.ok) throw new Error(tr.reason);
    const off = probe.physical.fileOffset(tr.pa);

    const buf = Buffer.alloc(CHUNK);
    const plain = async () => {
      for (let at = 0; at < length; at += CHUNK) {
        const { bytesRead } = await fh.read(buf, 0, CHUNK, off + at);
        if (bytesRead !== CHUNK) throw new Error('short read');
      }
    };
    // the same, into a fresh zeroed buffer per request, as any API that hands out its answer must
    const fresh = async () => {
      for (let at = 0; at < length; at += CHUNK) {
        const { bytesRead } = await fh.read(new Uint8Array(CHUNK), 0, CHUNK, off + at);
        if (bytesRead !== CHUNK) throw new Error('short read');
      }
    };
    const ours = async () => {
      const v = core.memoryLayers(kd).virtual;
      for (let at = 0; at < length; at += CHUNK) {
        const got = await v.read(va + BigInt(at), CHUNK);
        if (got.faults.length) throw new Error(got.faults[0].reason);
      }
    };
    // same bytes both ways (first and last chunk)
    for (const at of [0, length - CHUNK]) {
      await fh.read(buf, 0, CHUNK, off + at);
      const got = await core.memoryLayers(kd).virtual.read(va + BigInt(at), CHUNK);
      if (Buffer.compare(buf, Buffer.from(got.data)) !== 0) throw new Error('bytes differ');
    }
    const timed = async (f) => {
      const t0 = performance.now();
      await f();
      return (performance.now() - t0) / 1000;
    };
    await timed(plain);
    await timed(fresh);
    await timed(ours);
    const tp = [], tf = [], to = [];
    for (let r = 0; r < ctx.runs; r++) {
      tp.push(await timed(plain));
      tf.push(await timed(fresh));
      to.push(await timed(ours));
    }
    const p = median(tp), f = median(tf), o = median(to);
    const r3 = (x) => Math.round(x * 1000) / 1000;
    const note = `${length / MIB} MiB of the direct map in ${CHUNK / MIB} MiB reads`;
    return [
      { figure: 'sequential VA read vs fs read', ours: r3(o), peer: r3(p), ratio: r3(p / o), target: 0.5, pass: p / o >= 0.5, unit: 's', note },
      { figure: 'sequential VA read vs fs read into fresh buffers', ours: r3(o), peer: r3(f), ratio: r3(f / o), target: null, pass: true, unit: 's', note: `${note}; reported, no target: the cost of a new answer buffer per request` },
    ];
  } finally {
    await fh.close();
    await dump.close();
    await kernel.close();
  }
}
