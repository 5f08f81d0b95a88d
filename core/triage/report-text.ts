// The plain-text triage summary, in the spirit of FreeBSD crashinfo(8)'s core.txt: a header line,
// the times, the kernel version, the panic message, then the tail of the message buffer. Times are
// printed in UTC so the text does not depend on where it is read.

import { ctime } from '../crash/facts.ts';
import type { Piece, TriageReport } from './report.ts';

const RULE = '-'.repeat(72);

export function formatReportText(r: TriageReport): string {
  const lines = [
    `${valueOr(r.hostname, '(unknown host)')} dumped core - see ${r.dump.name ?? '(unnamed dump)'}`,
    '',
    field('crash time', timeText(r.crashTime, (v) => `${ctimeUtc(v.sec)} (${v.source} ${v.sec})`)),
    field('boot time', timeText(r.boottime, (v) => `${ctimeUtc(v.sec)} (${v.sec})`)),
    field('uptime', 'value' in r.uptime ? r.uptime.value.text : na(r.uptime.notAvailable)),
    ...multiline('version', 'value' in r.version ? r.version.value.replace(/\n+$/, '') : na(r.version.notAvailable)),
    ...versionWarning(r),
    field('machine', machineText(r)),
    '',
    field('panic', panicText(r)),
    ...(r.panic.message === null && r.panic.messageBufferLine !== null
      ? [field('in msgbuf', `${r.panic.messageBufferLine}  [last "panic:" line found in the message buffer]`)]
      : []),
    field('savecore', r.panic.savecoreSyslog),
    ...r.panic.reasons.map((why) => field('  note', why)),
    '',
    RULE,
    ...msgbufTail(r),
  ];
  return lines.join('\n') + '\n';
}

function field(label: string, text: string): string {
  return `${(label + ':').padEnd(12)} ${text}`;
}

/** Continuation lines of a multi-line value line up under the first. */
function multiline(label: string, text: string): string[] {
  const [first, ...rest] = text.split('\n');
  return [field(label, first), ...rest.map((l) => ' '.repeat(13) + l.replace(/^\t/, ''))];
}

function na(reason: string): string {
  return `not available (${reason})`;
}

function valueOr(p: Piece<string>, fallback: string): string {
  return 'value' in p ? p.value : fallback;
}

function timeText<T extends { sec: number }>(p: Piece<T>, show: (v: T) => string): string {
  return 'value' in p ? show(p.value) : na(p.notAvailable);
}

/** ctime(3) layout, in UTC: "Thu Jan  2 00:04:13 2025 UTC". */
export function ctimeUtc(sec: number): string {
  const text = ctime(sec, 'utc');
  return text.startsWith('@') ? text : `${text} UTC`;
}

function versionWarning(r: TriageReport): string[] {
  if ('value' in r.versionCheck) return r.versionCheck.value.match ? [] : [field('warning', 'the kernel file does not match the dump (version differs)')];
  return [field('kernel file', na(r.versionCheck.notAvailable))];
}

function machineText(r: TriageReport): string {
  if ('notAvailable' in r.machine) return na(r.machine.notAvailable);
  const mem = 'value' in r.physicalMemory
    ? `, ${mib(r.physicalMemory.value.bytes)} physical memory in ${r.physicalMemory.value.segments.length} segment${r.physicalMemory.value.segments.length === 1 ? '' : 's'}`
    : '';
  return `${r.machine.value.name}${mem}`;
}

function mib(bytes: number): string {
  const m = bytes / 1048576;
  return Number.isInteger(m) ? `${m} MiB` : `${bytes} bytes (${m.toFixed(1)} MiB)`;
}

function panicText(r: TriageReport): string {
  const p = r.panic;
  if (p.verdict === 'no-panic') return 'none (panicstr is NULL: the kernel did not panic)';
  if (p.message === null) return `not determined (savecore's derivation could not run: ${p.reasons.join('; ')})`;
  const from = p.source === 'msgbuf' ? 'message buffer, panicstart..panicend' : 'panicstr';
  return `${p.message}  [from ${from}]`;
}

function msgbufTail(r: TriageReport): string[] {
  if ('notAvailable' in r.msgbuf) return [`message buffer: ${na(r.msgbuf.notAvailable)}`];
  const m = r.msgbuf.value;
  const head = `message buffer: last ${m.lastLines.length} of ${m.lineCount} lines (${m.bufs}-byte ring${m.wrapped ? ', wrapped' : ''})`;
  return [head, '', ...m.lastLines];
}
