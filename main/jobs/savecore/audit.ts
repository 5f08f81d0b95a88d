// <dir>/kvmdump-audit.log: one JSON object per line for every action taken on evidence (scan,
// save, verify, invalidate, refusal). Opened in append mode and fsynced per line; never rewritten.

import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { packageVersion } from '../../app/paths.ts';

export const AUDIT_LOG = 'kvmdump-audit.log';

export type AuditAction = 'scan' | 'save' | 'verify' | 'invalidate-intent' | 'invalidate' | 'reconcile' | 'refusal' | 'cancel' | 'cleanup';

export interface AuditEntry {
  action: AuditAction;
  device: string;
  [key: string]: unknown;
}

export class AuditLog {
  /** Lines that could not be appended (directory missing or full): reported, never fatal. */
  readonly failures: string[] = [];
  constructor(
    readonly path: string,
    private readonly enabled = true,
  ) {}

  static inDirectory(directory: string, enabled = true): AuditLog {
    return new AuditLog(join(directory, AUDIT_LOG), enabled);
  }

  /** Append and fsync one line; false (and the reason in failures) when it is not on disk. */
  async append(entry: AuditEntry): Promise<boolean> {
    if (!this.enabled) return true;
    const line = JSON.stringify({ time: new Date().toISOString(), pid: process.pid, tool: toolVersion(), ...entry }, bigintAsHex) + '\n';
    try {
      const fh = await fsp.open(this.path, 'a', 0o600);
      try {
        await fh.appendFile(line);
        await fh.sync();
      } finally {
        await fh.close();
      }
      return true;
    } catch (e) {
      this.failures.push(`${this.path}: ${(e as Error).message}`);
      return false;
    }
  }

  /** Every line of the log that parses (a torn last line from a killed run is skipped). */
  async entries(): Promise<Record<string, unknown>[]> {
    let text: string;
    try {
      text = await fsp.readFile(this.path, 'utf8');
    } catch {
      return [];
    }
    return text.split('\n').flatMap((l) => {
      try {
        return l ? [JSON.parse(l) as Record<string, unknown>] : [];
      } catch {
        return [];
      }
    });
  }
}

export function bigintAsHex(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? `0x${value.toString(16)}` : value;
}

/** "kvmdump-workbench <version>" for manifests and audit lines. */
export function toolVersion(): string {
  try {
    return `kvmdump-workbench ${packageVersion()}`;
  } catch {
    return 'kvmdump-workbench (unknown version)';
  }
}
