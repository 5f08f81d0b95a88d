// The names of every operation the renderer may ask for, and the channel names built from them.
// Kept free of zod so the preload script (sandboxed, bundled alone) stays a few lines.

export const OP_NAMES = [
  'appInfo',
  'listDevices',
  'listRecent',
  'forgetRecent',
  'pickFile',
  'pickSaveFile',
  'openDump',
  'startOpen',
  'closeDump',
  'scan',
  'surveyDisk',
  'header',
  'mkheader',
  'wrtheader',
  'inval',
  'read',
  'kvatop',
  'nlist',
  'symbolSearch',
  'symbolPage',
  'startSavecore',
  'startScan',
  'cancelJob',
  'jobStatus',
  'triage',
  'savecorePreview',
  'kernelObjects',
  'readMemory',
  'translate',
  'locate',
  'memoryRegions',
  'stepRegion',
  'symbolsAt',
  'startFind',
  'saveMemory',
  'listBookmarks',
  'saveBookmarks',
  'exportBookmarks',
  'headerBytes',
] as const;

export type OpName = (typeof OP_NAMES)[number];

const OP_SET: ReadonlySet<string> = new Set(OP_NAMES);

export function isOpName(name: unknown): name is OpName {
  return typeof name === 'string' && OP_SET.has(name);
}

/** Electron IPC channel for one operation. */
export const ipcChannel = (op: OpName): string => `kvmdump:op:${op}`;

/** Electron IPC channel main uses to push job progress to the renderer. */
export const JOB_EVENT_CHANNEL = 'kvmdump:job-event';
