// Maintainer script: regenerate the bundled sample dump (build/sample/) from the project's own
// fixture builder. The output is deterministic; test/unit/sample.test.ts checks the committed
// files still equal what the builder makes.
//   npx esbuild scripts/make-sample.ts --bundle --platform=node --format=esm --outfile=/tmp/make-sample.mjs && node /tmp/make-sample.mjs
import { writeFileSync, mkdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { buildSample, SAMPLE_DIR } from '../test/fixtures/sample.ts';

const s = buildSample();
mkdirSync(SAMPLE_DIR, { recursive: true });
writeFileSync(`${SAMPLE_DIR}/netbsd`, s.kernel);
writeFileSync(`${SAMPLE_DIR}/dump.img.gz`, gzipSync(s.image, { level: 9 }));
writeFileSync(`${SAMPLE_DIR}/sample.json`, JSON.stringify(s.description, null, 2) + '\n');
console.log(`wrote ${SAMPLE_DIR}: kernel ${s.kernel.length} bytes, image ${s.image.length} bytes`);
