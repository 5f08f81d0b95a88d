// What savecore will say about this dump, before the user asks for an export: savecore's own checks
// (dumpmag, crash time, kernel version) run on a private read-only handle — the session's handle
// and its kvm_geterr() are left alone — and each answer is phrased for the Summary.

import type { OpParsedArgs } from '../../../contract/operations.ts';
import type { SavecorePreview } from '../../../contract/results.ts';
import { compareVersions, crashTime, dumpExists, lookupDumpSymbols } from '../../jobs/savecore/checks.ts';
import { withSession, type HandlerContext } from '../context.ts';
import { dumpView } from '../../../core/kvm/view.ts';

const DAY = 86_400;

function utc(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('T', ' ').replace(/\.000Z$/, ' UTC');
}

export async function savecorePreviewOp(ctx: HandlerContext, a: OpParsedArgs<'savecorePreview'>): Promise<SavecorePreview> {
  return withSession(ctx, a.sessionId, async (s) => {
    const { kernelPath, dumpPath, dumpOffset, machine, partition } = s.params;
    const opened = await ctx.openDump({ kernelPath, dumpPath, dumpOffset: dumpOffset ?? undefined, partition: partition ?? undefined, machine: machine ?? undefined, writable: false });
    try {
      const { kd } = opened;
      const found = s.opened.kd.namelistSource;
      if (!opened.kernel && found) kd.useNamelist(found);
      const refusals: SavecorePreview['refusals'] = [];
      if (!kd.hasHeader) {
        refusals.push({ check: 'header', forceOverrides: false, message: `savecore will find no dump: ${kd.geterr() || 'no dump header at this offset'}` });
        return { refusals, warnings: [] };
      }
      const view = dumpView(kd);
      const syms = await lookupDumpSymbols(view, kernelPath ?? 'ksyms');
      if (syms.missingRequired) {
        refusals.push({ check: 'symbols', forceOverrides: false, message: `savecore will refuse: ${syms.missingRequired.slice(1)} is not in the namelist (give the crashed kernel's file)` });
        return { refusals, warnings: [] };
      }
      const pageSize = kd.machineModule?.pageSize ?? 4096;
      const presence = await dumpExists(view, opened.kernel, syms, pageSize, false);
      if (!presence.present) {
        const hex = (v: number | null) => (v === null ? 'unreadable' : `0x${v.toString(16)}`);
        refusals.push({
          check: 'dumpmag', forceOverrides: true,
          message: `savecore will say "no core dump": dumpmag is ${hex(presence.dumpmag)}, not ${hex(presence.referenceDumpmag)} — `
            + 'the dump was already saved and invalidated, or the kernel file is not the one that crashed. Force (-f) saves it anyway.',
        });
      }
      const now = Math.floor(Date.now() / 1000);
      const ct = await crashTime(view, now);
      if (!ct.ok) {
        const when = ct.time === null ? 'unreadable' : `${utc(ct.time)}, ${Math.round(Math.abs(now - ct.time) / DAY)} days from now`;
        refusals.push({
          check: 'crash-time', forceOverrides: true,
          message: `savecore will refuse: the crash time (${when}) is more than 60 days from now, so it calls the dump time unreasonable. Force (-f) exports it anyway.`,
        });
      }
      const versions = await compareVersions(view, opened.kernel, syms, kernelPath ?? 'ksyms');
      const warnings = versions.mismatch
        ? [`the kernel file's version differs from the dump's: savecore warns, and symbols may not match the crashed kernel (file: ${versions.running.split('\n')[0]}; dump: ${versions.dump.split('\n')[0]})`]
        : [];
      return { refusals, warnings };
    } finally {
      await opened.close();
    }
  });
}
