// The presenting readers read memory only through the strict layers (issue 8): ESLint refuses an
// import of libkvm's handle in triage, crash facts, ksyms discovery, savecore's checks and the
// app's memory operations, and allows it where libkvm's semantics are the point.
import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';

const eslint = new ESLint();

async function restricted(filePath: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('the libkvm handle stays out of the presenting readers', () => {
  it.each([
    ['core/triage/report.ts', "import type { Kvm } from '../kvm.ts';"],
    ['core/crash/facts.ts', "import { Kvm } from '../kvm/handle.ts';"],
    ['core/ksyms/discover.ts', "import type { Kvm } from '../kvm.ts';"],
    ['core/layers/physical.ts', "import { DumpIo } from '../kvm/io.ts';"],
    ['main/jobs/savecore/checks.ts', "import type { Kvm } from '../../../core/kvm.ts';"],
    ['main/app/ops/memory-ops.ts', "import type { Kvm } from '../../../core/kvm.ts';"],
    ['main/app/adapters/triage.ts', "import { Kvm } from '../../../core/kvm/handle.ts';"],
    ['core/objects/context.ts', "import type { Kvm } from '../kvm/handle.ts';"],
    ['main/app/ops/savecore-preview.ts', "import type { Kvm } from '../../../core/kvm.ts';"],
  ])('%s may not import it', async (file, source) => {
    expect(await restricted(file, `${source}\nexport type X = unknown;\n`)).toEqual([
      expect.stringContaining('presenting readers use the strict layers'),
    ]);
  });

  it.each([
    ['main/cli/kvm-commands.ts', "import type { Kvm } from '../../core/kvm.ts';"],
    ['main/jobs/savecore/invalidate.ts', "import type { Kvm } from '../../../core/kvm.ts';"],
    ['core/triage/report.ts', "import { dumpView } from '../kvm/view.ts';"],
  ])('%s may', async (file, source) => {
    expect(await restricted(file, `${source}\nexport type X = unknown;\n`)).toEqual([]);
  });
});
