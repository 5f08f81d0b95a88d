// The handler layer: one implementation per contract operation over a session registry. Electron
// IPC, serve-mode HTTP and the tests all call `call(op, args)`, so every transport gets the same
// validation and the same results.

import type { Outcome } from '../../contract/errors.ts';
import type { OpName } from '../../contract/op-names.ts';
import type { OpArgs, OpResult } from '../../contract/operations.ts';
import { openDump } from '../session/open-dump.ts';
import type { HandlerContext, HandlerDeps } from './context.ts';
import { dispatch, type CallContext, type Implementations } from './dispatch.ts';
import { JobRegistry, type JobListener } from './jobs.ts';
import { surveyDiskOp } from './ops/disk-ops.ts';
import { appInfoOp, forgetRecentOp, listDevicesOp, listRecentOp, pickFileOp, pickSaveFileOp } from './ops/app-ops.ts';
import { closeDumpOp, headerOp, mkheaderOp, openDumpOp, scanOp, startOpenOp, startScanOp } from './ops/dump-ops.ts';
import { cancelJobOp, jobStatusOp, startSavecoreOp, triageOp } from './ops/job-ops.ts';
import { kvatopOp, nlistOp } from './ops/kvm-ops.ts';
import { readMemoryOp, readOp, translateOp } from './ops/memory-ops.ts';
import { symbolPageOp, symbolSearchOp } from './ops/symbol-ops.ts';
import { savecorePreviewOp } from './ops/savecore-preview.ts';
import { kernelObjectsOp } from './ops/object-ops.ts';
import { invalOp, wrtheaderOp } from './ops/write-ops.ts';
import { RecentFiles } from './recent.ts';
import { BookmarkStore } from './bookmarks.ts';
import { headerBytesOp, locateOp, memoryRegionsOp, stepRegionOp, symbolsAtOp } from './ops/viewer-ops.ts';
import { saveMemoryOp, startFindOp } from './ops/find-ops.ts';
import { exportBookmarksOp, listBookmarksOp, saveBookmarksOp } from './ops/bookmark-ops.ts';
import { builtinServices } from './services.ts';
import { SessionRegistry } from './sessions.ts';

export type { HandlerDeps, Dialogs } from './context.ts';

export interface Handlers {
  /** Validate and run one operation; unknown names and bad arguments come back as errors. */
  call(op: unknown, args: unknown, context?: CallContext): Promise<Outcome<unknown>>;
  /** The typed form of call, for code that knows the operation at compile time. */
  invoke<K extends OpName>(op: K, args: OpArgs<K>): Promise<Outcome<OpResult<K>>>;
  onJobEvent(listener: JobListener): () => void;
  /** Record what start-up opened (or why it did not) for the appInfo operation. */
  setStartup(info: { initialSessionId: string | null; startupMessage: string | null }): void;
  /** Cancel jobs and close every open dump (app exit). */
  shutdown(): Promise<void>;
  readonly sessionCount: number;
}

export function createHandlers(deps: HandlerDeps): Handlers {
  const ctx: HandlerContext = {
    deps,
    sessions: new SessionRegistry(deps.sessionLimits),
    jobs: new JobRegistry(),
    recent: new RecentFiles(deps.userDataDir),
    bookmarks: new BookmarkStore(deps.userDataDir),
    services: deps.services ?? builtinServices,
    openDump: deps.openDump ?? openDump,
    startup: { initialSessionId: null, startupMessage: null },
  };
  const impl: Implementations = {
    appInfo: () => appInfoOp(ctx),
    listDevices: () => listDevicesOp(ctx),
    listRecent: () => listRecentOp(ctx),
    forgetRecent: (a) => forgetRecentOp(ctx, a),
    pickFile: (a) => pickFileOp(ctx, a),
    pickSaveFile: (a) => pickSaveFileOp(ctx, a),
    openDump: (a) => openDumpOp(ctx, a),
    startOpen: (a) => startOpenOp(ctx, a),
    closeDump: (a) => closeDumpOp(ctx, a),
    scan: (a, c) => scanOp(ctx, a, c.signal),
    surveyDisk: (a) => surveyDiskOp(ctx, a),
    startScan: (a) => startScanOp(ctx, a),
    header: (a) => headerOp(ctx, a),
    mkheader: (a) => mkheaderOp(ctx, a),
    wrtheader: (a) => wrtheaderOp(ctx, a),
    inval: (a) => invalOp(ctx, a),
    read: (a) => readOp(ctx, a),
    kvatop: (a) => kvatopOp(ctx, a),
    nlist: (a) => nlistOp(ctx, a),
    symbolSearch: (a) => symbolSearchOp(ctx, a),
    symbolPage: (a) => symbolPageOp(ctx, a),
    startSavecore: (a) => startSavecoreOp(ctx, a),
    cancelJob: (a) => cancelJobOp(ctx, a),
    jobStatus: (a) => jobStatusOp(ctx, a),
    triage: (a) => triageOp(ctx, a),
    savecorePreview: (a) => savecorePreviewOp(ctx, a),
    kernelObjects: (a) => kernelObjectsOp(ctx, a),
    readMemory: (a) => readMemoryOp(ctx, a),
    translate: (a) => translateOp(ctx, a),
    locate: (a) => locateOp(ctx, a),
    memoryRegions: (a) => memoryRegionsOp(ctx, a),
    stepRegion: (a) => stepRegionOp(ctx, a),
    symbolsAt: (a) => symbolsAtOp(ctx, a),
    startFind: (a) => startFindOp(ctx, a),
    saveMemory: (a) => saveMemoryOp(ctx, a),
    listBookmarks: (a) => listBookmarksOp(ctx, a),
    saveBookmarks: (a) => saveBookmarksOp(ctx, a),
    exportBookmarks: (a) => exportBookmarksOp(ctx, a),
    headerBytes: (a) => headerBytesOp(ctx, a),
  };
  const policy = { allowWrite: deps.allowWrite, onInternalError: deps.onInternalError };
  const call = (op: unknown, args: unknown, context?: CallContext) => dispatch(impl, policy, op, args, context);
  return {
    call,
    invoke: (op, args) => call(op, args) as never,
    onJobEvent: (listener) => ctx.jobs.subscribe(listener),
    setStartup: (info) => {
      ctx.startup = info;
    },
    shutdown: async () => {
      ctx.jobs.cancelAll();
      await ctx.sessions.closeAll();
    },
    get sessionCount() {
      return ctx.sessions.size;
    },
  };
}
