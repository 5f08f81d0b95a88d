// Crash triage, the public surface (CLI, savecore job, the app's Summary view).

export {
  readPanicMessage, savecoreSyslogLine, panicTextFromRing, panicVerdict, lastPanicLine, PANIC_MESG_MAX, PANICSTR_NULL,
  type PanicInfo, type PanicVerdict,
} from './panic.ts';
export {
  readMessageBuffer, lastLines, ringText, readingStart,
  type MessageBuffer, type MessageBufferAvailable, type MessageBufferUnavailable,
} from './msgbuf.ts';
export { MSG_MAGIC } from './msgbuf-header.ts';
export {
  buildTriageReport, formatReportText, versionMismatch, readKernelFileVersion, durationText, ctimeUtc, DEFAULT_REPORT_LINES,
  type TriageReport, type TriageReportOptions, type Piece, type TimeValue, type CrashTime, type MsgbufSummary,
} from './report.ts';
