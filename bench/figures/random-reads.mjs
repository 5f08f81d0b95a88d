// random reads: 1M translated 8-byte reads at random kernel VAs — a third each in 4 KiB pages
// (.data, .bss, the message buffer), 2 MiB pages (.text, .rodata) and the 1 GiB pages of the
// direct map — through the strict virtual layer (memoryLayers(kd).virtual.read) and through
// libkvm's kvm_read (kd.read), vs plain reads of the same count at the file offsets those VAs
// resolve to, through the same source. Target: translation costs at most 3× (ratio ≥ 1/3). In
// process, one read at a time (each awaited, as a presenting reader does), alternating, medians.
// BENCH_RANDOM_READS=N changes the count (for quick iterations).
import { median } from '../lib/measure.mjs';
import { realisticDump } from '../lib/input.mjs';
import { loadCore } from '../lib/core.mjs';

const MIB = 1n << 20n;

export default async function run(ctx) {
  const N = Number(process.env.BENCH_RANDOM_READS ?? 1_000_000);
  const d = await realisticDump(ctx.workDir, ctx.memMiB, ctx.log);
  const core = await loadCore(ctx.workDir);
  const dump = await core.openSource(d.image);
  const kernel = await core.openSource(d.kernel);
  try {
    const kd = await core.Kvm.open({ dump, kernel });
    if ((await kd.mkheader(d.headerOff)) <= 0) throw new Error(`mkheader: ${kd.geterr()}`);
    const vas = randomVas(d, N);
    const offsets = await resolve(core.memoryLayers(kd), vas);
    await check(core.memoryLayers(kd), kd, dump, vas, offsets);

    const buf = new Uint8Array(8);
    const plain = async (n) => {
      for (let i = 0; i < n; i++) if ((await dump.pread(buf, offsets[i])) !== 8) throw new Error('short read');
    };
    const layers = async (n) => {
      // a fresh layer per pass, as the workbench builds one per request: its caches start empty
      const v = core.memoryLayers(kd).virtual;
      for (let i = 0; i < n; i++) if ((await v.read(vas[i], 8)).faults.length) throw new Error('fault');
    };
    const libkvm = async (n) => {
      for (let i = 0; i < n; i++) if ((await kd.read(vas[i], buf)) !== 8) throw new Error(kd.geterr());
    };
    const timed = async (f, n) => {
      const t0 = performance.now();
      await f(n);
      return (performance.now() - t0) / 1000;
    };
    const warm = Math.min(N, 50_000);
    for (const f of [plain, layers, libkvm]) await timed(f, warm);
    const t = { plain: [], layers: [], libkvm: [] };
    for (let r = 0; r < ctx.runs; r++) {
      t.plain.push(await timed(plain, N));
      t.layers.push(await timed(layers, N));
      t.libkvm.push(await timed(libkvm, N));
    }
    const p = median(t.plain), l = median(t.layers), k = median(t.libkvm);
    const note = `${N} reads, thirds in 4 KiB / 2 MiB / 1 GiB pages; ratio = plain time / ours (target 1/3: at most 3×)`;
    return [
      rec('random reads, strict layer vs plain', l, p, note),
      rec('random reads, kvm_read vs plain', k, p, note),
    ];
  } finally {
    await dump.close();
    await kernel.close();
  }
}

function rec(figure, ours, peer, note) {
  const r3 = (x) => Math.round(x * 1000) / 1000;
  return { figure, ours: r3(ours), peer: r3(peer), ratio: r3(peer / ours), target: 0.333, pass: peer / ours >= 1 / 3, unit: 's', note };
}

/** N 8-aligned VAs, cycling through the three page sizes; deterministic. */
function randomVas(d, n) {
  let x = 0x2545f491;
  const rnd = () => (x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0);
  const big = (lim) => (BigInt(rnd()) * 4294967296n + BigInt(rnd())) % lim;
  const small = d.mappings.filter((m) => m.page === '4k');
  const large = d.mappings.filter((m) => m.page === '2m');
  const top = d.segments.at(-1).start + d.segments.at(-1).size;
  const ram = top < 1n << 30n ? top : 1n << 30n;
  const vas = new Array(n);
  for (let i = 0; i < n; i++) {
    let va;
    if (i % 3 === 0) {
      const m = small[rnd() % small.length];
      va = m.va + big(m.size);
    } else if (i % 3 === 1) {
      const m = large[rnd() % large.length];
      va = m.va + big(m.size);
    } else {
      va = d.layout.directMap.base + MIB + big(ram - MIB); // above the ISA hole, inside the 1 GiB page(s)
    }
    vas[i] = va & ~7n;
  }
  return vas;
}

/** The file offset each VA's bytes live at, found once through the layers (not timed). */
async function resolve(layers, vas) {
  const out = new Float64Array(vas.length);
  for (let i = 0; i < vas.length; i++) {
    const tr = await layers.virtual.translate(vas[i]);
    if (!tr.ok) throw new Error(tr.reason);
    out[i] = layers.physical.fileOffset(tr.pa);
  }
  return out;
}

/** All three ways read the same bytes (a sample, before timing). */
async function check(layers, kd, dump, vas, offsets) {
  const a = new Uint8Array(8), b = new Uint8Array(8);
  for (let i = 0; i < Math.min(3000, vas.length); i++) {
    await dump.pread(a, offsets[i]);
    await kd.read(vas[i], b);
    const c = (await layers.virtual.read(vas[i], 8)).data;
    for (let j = 0; j < 8; j++) if (a[j] !== b[j] || a[j] !== c[j]) throw new Error(`bytes differ at VA 0x${vas[i].toString(16)}`);
  }
}
