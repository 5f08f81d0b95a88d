// core/triage's report as the app's TriageRunner: the structured report plus the CLI's text form.

import { buildTriageReport, formatReportText } from '../../../core/triage/index.ts';
import { dumpView } from '../../../core/kvm/view.ts';
import type { TriageRunner } from '../services.ts';

export const triageRunner: TriageRunner = async (kd, opts) => {
  const report = await buildTriageReport(dumpView(kd), opts);
  return { report, text: formatReportText(report) };
};
