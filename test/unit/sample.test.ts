// The bundled sample (build/sample) is what `npm start` opens: it must be exactly what the fixture
// builder makes today, and the CLI must read it like any dump.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { buildSample, SAMPLE_DIR } from '../fixtures/sample.ts';
import { kvmdump } from '../fixtures/cli.ts';

describe('bundled sample dump', () => {
  const s = buildSample();
  const meta = JSON.parse(readFileSync(`${SAMPLE_DIR}/sample.json`, 'utf8'));

  it('equals what the fixture builder makes (regenerate with scripts/make-sample.ts)', () => {
    expect(Buffer.compare(readFileSync(`${SAMPLE_DIR}/netbsd`), s.kernel)).toBe(0);
    expect(Buffer.compare(gunzipSync(readFileSync(`${SAMPLE_DIR}/dump.img.gz`)), s.image)).toBe(0);
    expect(meta).toEqual(s.description);
  });

  it('opens through the CLI: header, dumpmag, and the panic message in the report', () => {
    const args = ['--kernel', `${SAMPLE_DIR}/netbsd`, '--dump', `${SAMPLE_DIR}/dump.img.gz`, '--dump-offset', String(meta.dumpOffset), '--json'];
    expect(kvmdump(['mkheader', ...args]).json).toMatchObject({ result: 512, machine: 'amd64' });
    expect(kvmdump(['read', ...args, '--symbol', 'dumpmag', '--length', '4']).json.hex).toBe('0101ca8f');
    const report = kvmdump(['report', ...args]).json;
    expect(JSON.stringify(report)).toContain(meta.panicMessage);
  });
});
