// scan: `kvmdump scan` over the image vs `cat IMG > /dev/null` (the page cache's read speed).
import { alternate, BIN, record } from '../lib/measure.mjs';
import { realisticDump } from '../lib/input.mjs';

export default async function run(ctx) {
  const d = await realisticDump(ctx.workDir, ctx.memMiB, ctx.log);
  const t = alternate([
    { name: 'ours', cmd: [process.execPath, BIN, 'scan', '--dump', d.image, '--json'] },
    { name: 'cat', cmd: `cat '${d.image}' > /dev/null` },
  ], ctx.runs);
  return [record('scan', t.ours, t.cat, 0.8, { note: `${(d.size / 2 ** 30).toFixed(2)} GiB image` })];
}
