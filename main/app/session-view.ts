// One DumpView per opened dump and header: the strict layers are built once, not per request, so
// what they learn (segment index, and whatever the layers keep) serves every call. A reopen (after
// a write, or a change on disk) is a new OpenedDump, and mkheader a new machine state: both get a
// new view, so nothing learnt from the old bytes survives.

import { dumpView } from '../../core/kvm/view.ts';
import type { DumpView } from '../../core/layers/dump-view.ts';
import type { Session } from './sessions.ts';

const views = new WeakMap<object, { machine: unknown; dumpOff: number; view: DumpView }>();

export function sessionView(s: Session): DumpView {
  const kd = s.opened.kd;
  const known = views.get(s.opened);
  if (known && known.machine === kd.machine && known.dumpOff === kd.dumpOff) return known.view;
  const view = dumpView(kd);
  views.set(s.opened, { machine: kd.machine, dumpOff: kd.dumpOff, view });
  return view;
}
