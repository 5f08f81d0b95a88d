// Issue 14 item 3: an export's progress is one scale over the whole job — monotonic, the phase
// named with bytes, rate and time left, and 100% when it is done (it used to run 1% → 69% → 100%
// during the core and end showing "1% — done").

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import type { JobEvent } from '../../contract/results.ts';
import { createHandlers } from '../../main/app/handlers.ts';
import { ExportProgress } from '../../main/app/adapters/savecore.ts';
import { writeDumpFiles } from './helpers/dump-files.ts';

for (const [flavour, invalidate] of [['amd64', false], ['amd64', true], ['i386pae', true]] as const) {
  test(`${flavour}: every progress value of a real export${invalidate ? ' with invalidation' : ''}: monotonic, phases named, ends at 100%`, async () => {
    const files = writeDumpFiles({ seed: 81, flavour });
    const handlers = createHandlers({ mode: 'serve', userDataDir: files.dir, allowWrite: invalidate });
    try {
      const opened = await handlers.invoke('openDump', { kernelPath: files.kernelPath, dumpPath: files.dumpPath, dumpOffset: files.dumpOffset });
      if (!opened.ok) throw new Error(opened.error.message);
      const seen: JobEvent[] = [];
      handlers.onJobEvent((e) => seen.push(e));
      const r = await handlers.invoke('startSavecore', { sessionId: opened.value.sessionId, outDir: mkdtempSync(join(tmpdir(), 'kvmdump-progress-')), compress: true, invalidate });
      if (!r.ok) throw new Error(r.error.message);
      await expect.poll(() => seen.at(-1)?.state, { timeout: 60_000 }).toMatch(/done|failed/);
      const last = seen.at(-1)!;
      expect(last.state, last.message ?? '').toBe('done');
      const pct = seen.map((e) => (e.total > 0 ? e.done / e.total : 0));
      for (let i = 1; i < pct.length; i++) expect(pct[i]!, `event ${i}: ${seen[i]!.message}`).toBeGreaterThanOrEqual(pct[i - 1]!);
      expect(pct.at(-1)).toBe(1);
      const messages = seen.map((e) => e.message ?? '').join('\n');
      expect(messages).toMatch(/^core: copying memory: [\d.]+ (KiB|MiB) of [\d.]+ MiB/m);
      expect(messages).toMatch(/^verify: reading the archive back/m);
      expect(messages).toMatch(/writing the manifest/);
      if (invalidate) expect(messages).toMatch(/^invalidate: re-reading the dump/m);
      expect(messages).toMatch(/\/s(, \d+:\d\d left)?$/m); // a rate, and time left once it is known
    } finally {
      await handlers.shutdown();
      files.cleanup();
    }
  });
}

test('phase by phase the scale only moves forward, even when a phase\'s own bytes restart', () => {
  const values: number[] = [];
  const p = new ExportProgress(false, (done) => values.push(done));
  p.enter('core');
  p.bytes('core', 50, 100, 1e6, 1);
  p.bytes('core', 100, 100, 1e6, 0);
  p.enter('kernel');
  p.bytes('kernel', 0, 10, 0, null); // a new phase starts its bytes at 0
  p.enter('verify');
  p.bytes('verify', 10, 100, 1e6, 2);
  p.enter('core'); // out of order: never back
  expect(values).toEqual([...values].sort((a, b) => a - b));
  expect(values[1]).toBe(270); // halfway through core: 40 + (500 - 40) / 2
});
