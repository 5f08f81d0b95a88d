// The renderer's only door to main: one small function per contract operation (generated from the
// operation list), plus a job-progress subscription. No ipcRenderer, no Node, nothing else.

import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { ipcChannel, JOB_EVENT_CHANNEL, OP_NAMES } from '../contract/op-names.ts';
import type { JobEvent } from '../contract/results.ts';

const api: Record<string, unknown> = {};
for (const op of OP_NAMES) api[op] = (args: unknown) => ipcRenderer.invoke(ipcChannel(op), args ?? {});

api.onJobEvent = (listener: (event: JobEvent) => void) => {
  const forward = (_e: IpcRendererEvent, event: JobEvent) => listener(event);
  ipcRenderer.on(JOB_EVENT_CHANNEL, forward);
  return () => {
    ipcRenderer.removeListener(JOB_EVENT_CHANNEL, forward);
  };
};

contextBridge.exposeInMainWorld('kvmdump', api);
