// What was running when it crashed, in Chromium through serve mode: a fixture dump whose objects
// sit at gcc's offsets, opened with the gcc-built debug kernel in the Open view's "Debug kernel"
// field. Summary names the panicking CPU, LWP and process and the top frames; the Processes (with
// LWPs), CPUs, Mounts, Modules and Stack views list what the fixture laid out; an address opens
// the Memory view there; a broken allproc link ends the listing with the reason.

import type { Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { buildDumpImage } from '../fixtures/dump-image.ts';
import { defaultObjectsSpec, type ObjectsSpec } from '../fixtures/kernel-objects.ts';
import { buildTypesObject, compilerMissing, TYPES_ARCHES, type TypesArch } from '../fixtures/kernel-types/build.ts';
import { writeFixture } from '../fixtures/cli.ts';
import { chromiumRequiredInCi, HAVE_CHROMIUM, openThroughUi, useBrowserSession } from './helpers.ts';

chromiumRequiredInCi();

async function files(arch: TypesArch, spec: ObjectsSpec = defaultObjectsSpec()) {
  const obj = buildTypesObject(arch);
  const img = buildDumpImage({ flavour: arch, seed: 11, objects: { spec, facts: obj.facts, arch } });
  const f = await writeFixture(img, `e2e-objects-${arch}`);
  return { kernelPath: f.kernel, dumpPath: f.dump, dumpOffset: img.facts.dumpOff, debugPath: obj.path, laid: img.facts.objects! };
}

const text = async (page: Page, testId: string) => {
  const l = page.getByTestId(testId);
  return (await l.count()) ? ((await l.first().textContent()) ?? '') : '';
};

describe.skipIf(!HAVE_CHROMIUM)('kernel objects in Chromium', () => {
  const ui = useBrowserSession({ allowWrite: false });

  for (const arch of TYPES_ARCHES) {
    test.skipIf(compilerMissing(arch) !== null)(`${arch}: Summary, Processes, CPUs, Mounts, Modules and Stack show what the fixture laid out`, async () => {
      const f = await files(arch);
      await ui.page.getByTestId('tab-open').click();
      await ui.page.getByTestId('debug-path').fill(f.debugPath);
      await openThroughUi(ui.page, f);
      await expect.poll(() => text(ui.page, 'summary-running')).toContain('412.1 sh');
      const running = await text(ui.page, 'summary-running');
      expect(running).toContain('cpu1 (cpu 1)');
      expect(running).toContain('cpu_reboot+0x1b4');

      await ui.page.getByRole('button', { name: 'Processes' }).click();
      await expect.poll(() => text(ui.page, 'proc-412')).toContain('sh');
      for (const p of defaultObjectsSpec().processes) {
        expect(await text(ui.page, `proc-${p.pid}`)).toContain(p.comm);
        for (const l of p.lwps) expect(await text(ui.page, `lwp-${p.pid}.${l.lid}`)).toContain(`LWP ${l.lid}`);
      }
      expect(await text(ui.page, 'lwp-57.1')).toContain('select');

      await ui.page.getByRole('button', { name: 'CPUs' }).click();
      await expect.poll(() => text(ui.page, 'cpu-1')).toContain('panicked');
      expect(await text(ui.page, 'cpu-0')).toContain('0.2 system (idle/0)');

      await ui.page.getByRole('button', { name: 'Mounts' }).click();
      const mounts = ui.page.getByRole('table', { name: 'mounts' });
      await mounts.waitFor();
      expect(await mounts.textContent()).toMatch(/\/dev\/wd0a\s*\/\s*ffs/);

      await ui.page.getByRole('button', { name: 'Modules' }).click();
      const modules = ui.page.getByRole('table', { name: 'modules' });
      await modules.waitFor();
      expect(await modules.textContent()).toContain(`0x${f.laid.addresses.loadAddresses.get('nfs')!.toString(16)}`);

      await ui.page.getByRole('button', { name: 'Stack' }).click();
      const stack = ui.page.getByRole('table', { name: 'stack' });
      await stack.waitFor();
      const frames = defaultObjectsSpec().frames.map((x) => `${x.fn}+0x${x.offset.toString(16)}`);
      for (const fr of frames) expect(await stack.textContent()).toContain(fr);
      expect(await text(ui.page, 'stack-stop')).toContain('end of the frame chain');

      // An address opens the Memory view there.
      await ui.page.getByRole('button', { name: 'Processes' }).click();
      const addr = `0x${f.laid.addresses.procs[0]!.toString(16)}`;
      await ui.page.getByRole('button', { name: addr }).click();
      await expect.poll(async () => ui.page.getByTestId('goto-input').inputValue()).toBe(addr);
      await ui.page.locator(`[data-address="${addr}"]`).first().waitFor();
    });
  }

  test('without a debug kernel the views say there is no type information and what to supply', async () => {
    if (compilerMissing('amd64')) return;
    const f = await files('amd64');
    await ui.page.getByTestId('tab-open').click();
    await ui.page.getByTestId('debug-path').fill('');
    await openThroughUi(ui.page, f);
    await expect.poll(() => text(ui.page, 'summary-running-missing')).toContain('no type information');
    await ui.page.getByRole('button', { name: 'Processes' }).click();
    await expect.poll(() => text(ui.page, 'objects-error')).toBe(
      'no type information: the kernel file carries no DWARF; give the debug kernel netbsd.gdb (written beside netbsd by the same build) in the Debug kernel field',
    );
  });

  test('a broken allproc link ends the Processes listing, and a broken LWP list its process\'s LWPs, with the reasons', async () => {
    if (compilerMissing('amd64')) return;
    const f = await files('amd64', { ...defaultObjectsSpec(), breakProcs: { after: 2, how: 'unmapped' }, breakLwpsOf: 57 });
    await ui.page.getByTestId('tab-open').click();
    await ui.page.getByTestId('debug-path').fill(f.debugPath);
    await openThroughUi(ui.page, f);
    await ui.page.getByRole('button', { name: 'Processes' }).click();
    await expect.poll(() => text(ui.page, 'objects-end')).toMatch(/Listing ended early: struct proc at 0x[0-9a-f]+: PTE \(level 1\) at PA 0x[0-9a-f]+ is not present \(entry 0x0\)/);
    expect(await text(ui.page, 'proc-412')).toContain('sh');
    expect(await ui.page.getByTestId('proc-1').count()).toBe(0);
    expect(await text(ui.page, 'lwps-end-57')).toMatch(/LWP list ended early: struct lwp at 0x[0-9a-f]+: PTE \(level 1\) at PA 0x[0-9a-f]+ is not present \(entry 0x0\)/);
    expect(await ui.page.getByTestId('lwps-end-412').count()).toBe(0);
    expect(ui.session.errors).toEqual([]);
  });
});
