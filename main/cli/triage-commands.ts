// Crash triage on the command line: `kvmdump report` (what crashed, when and why — a crashinfo(8)
// style summary or one JSON object) and `kvmdump dmesg` (the message buffer as `dmesg -M` reads it).

import { buildTriageReport, formatReportText, readMessageBuffer } from '../../core/triage/index.ts';
import type { MachineName } from '../../core/machines/machine.ts';
import { dumpView } from '../../core/kvm/view.ts';
import type { OpenedDump } from '../session/open-dump.ts';
import { withDump } from './open.ts';
import { objectsSectionsFor as objectsSections } from '../session/debug-types.ts';
import type { Emitter } from './output.ts';

export interface TriageArgs {
  kernel?: string;
  dump: string;
  dumpOffset?: number;
  machine?: MachineName;
}

type Exit = number;

/** Open kernel and dump (mkheader at --dump-offset unless it is a core file); report failures. */
function withTriageDump(args: TriageArgs, out: Emitter, body: (o: OpenedDump) => Promise<Exit>): Promise<Exit> {
  return withDump({ ...args, symbolsFromDump: true }, out, {}, (opened) => (opened.kd.hasHeader ? body(opened) : Promise.resolve(noHeader(args, opened, out))));
}

function noHeader(args: TriageArgs, opened: OpenedDump, out: Emitter): Exit {
  const error = `kvm_dump_mkheader: ${opened.mkheader}${opened.kd.geterr() ? ` (${opened.kd.geterr()})` : ''}: no dump header at offset ${args.dumpOffset}`;
  out.result({ error }, () => [`kvmdump: ${error}`]);
  return 1;
}

export async function reportCommand(args: TriageArgs & { lines?: number; debug?: string }, out: Emitter): Promise<Exit> {
  return withTriageDump(args, out, async (opened) => {
    const { kd } = opened;
    const report = await buildTriageReport(dumpView(kd), { lines: args.lines, dumpOffset: args.dumpOffset, dumpName: args.dump });
    // With --debug: what was running (processes, LWPs, CPUs, mounts, modules, stack) follows.
    const objects = args.debug ? await objectsSections(args.debug, opened) : null;
    out.result(objects ? { ...report, objects: objects.json } : report, () => (formatReportText(report) + (objects?.text ?? '')).replace(/\n$/, '').split('\n'));
    return 0;
  });
}

export async function dmesgCommand(args: TriageArgs, out: Emitter): Promise<Exit> {
  return withTriageDump(args, out, async ({ kd }) => {
    const mb = await readMessageBuffer(dumpView(kd));
    if (!mb.available) {
      if (out.json) out.result(mb, () => []);
      else out.note(`kvmdump: dmesg: message buffer not available: ${mb.reason}`);
      return 1;
    }
    // Human output is the text itself; a final unterminated line ("dump ") gets its newline.
    out.result(mb, () => mb.text.replace(/\n$/, '').split('\n'));
    return 0;
  });
}
