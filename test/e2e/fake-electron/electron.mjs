// A recording stand-in for the parts of 'electron' the main process uses. When the window loads
// its URL, it drives the app the way Electron would (the app:// protocol, IPC from trusted and
// untrusted frames, navigation and window.open), writes what it saw to FAKE_ELECTRON_REPORT, and
// exits. It lets a test check the built bundle without an Electron binary.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';

const seen = { schemes: [], sandbox: false, windows: [], ipc: {}, permissionGranted: null, csp: null, checks: {} };
const appListeners = {};
const ipcHandlers = new Map();
let protocolHandler = null;

export const app = {
  isPackaged: false,
  enableSandbox() { seen.sandbox = true; },
  on(ev, fn) { (appListeners[ev] ??= []).push(fn); },
  whenReady: () => Promise.resolve(),
  getPath: () => tmpdir(),
  getVersion: () => '0.0.0-fake',
  quit() {},
  exit(code) { process.exit(code); },
};

export const protocol = {
  registerSchemesAsPrivileged(list) { seen.schemes.push(...list); },
  handle(scheme, fn) { protocolHandler = { scheme, fn }; },
};

export const session = {
  defaultSession: {
    setPermissionRequestHandler(fn) { fn(null, 'media', (granted) => { seen.permissionGranted = granted; }); },
    setPermissionCheckHandler() {},
    webRequest: { onHeadersReceived(fn) { fn({ responseHeaders: {} }, (r) => { seen.csp = r.responseHeaders['Content-Security-Policy']; }); } },
  },
};

export const ipcMain = {
  handle(channel, fn) { ipcHandlers.set(channel, fn); },
  removeHandler(channel) { ipcHandlers.delete(channel); },
};

// The renderer side, for running the built preload script against the real IPC handlers: invoke
// comes from our own frame, and webContents.send reaches the listeners the preload registered.
const rendererListeners = new Map();
const RENDERER_URL = 'app://kvmdump/index.html';
const exposed = {};
export const ipcRenderer = {
  invoke: async (channel, args) => {
    const fn = ipcHandlers.get(channel);
    if (!fn) throw new Error(`No handler registered for '${channel}'`);
    return fn({ senderFrame: { url: RENDERER_URL } }, args);
  },
  on(channel, fn) { (rendererListeners.get(channel) ?? rendererListeners.set(channel, new Set()).get(channel)).add(fn); },
  removeListener(channel, fn) { rendererListeners.get(channel)?.delete(fn); },
};
export const contextBridge = {
  exposeInMainWorld(name, value) { exposed[name] = value; },
};

// Dialogs answer what a user would pick (recorded with the options main passed), then cancel.
const dialogAnswers = [
  { canceled: false, filePaths: ['/dev/rsd0b'] },
  { canceled: true, filePaths: [] },
];
export const dialog = {
  showOpenDialog: async (...args) => {
    (seen.dialogs ??= []).push({ kind: 'open', options: args.at(-1), parented: args.length === 2 });
    return dialogAnswers.shift() ?? { canceled: true, filePaths: [] };
  },
  showSaveDialog: async (...args) => {
    (seen.dialogs ??= []).push({ kind: 'save', options: args.at(-1), parented: args.length === 2 });
    return { canceled: false, filePath: '/var/crash/netbsd.0.hdr' };
  },
};

function fakeWebContents() {
  const listeners = {};
  return {
    listeners,
    windowOpen: null,
    on(ev, fn) { (listeners[ev] ??= []).push(fn); },
    setWindowOpenHandler(fn) { this.windowOpen = fn; },
    send(channel, payload) {
      // structured clone, as IPC would: the renderer never shares objects with main
      for (const fn of rendererListeners.get(channel) ?? []) fn({}, structuredClone(payload));
    },
  };
}

export class BrowserWindow {
  static all = [];
  static getAllWindows() { return BrowserWindow.all; }
  constructor(options) {
    this.options = options;
    this.webContents = fakeWebContents();
    BrowserWindow.all.push(this);
    for (const fn of appListeners['web-contents-created'] ?? []) fn({}, this.webContents);
  }
  once() {}
  on() {}
  show() {}
  isDestroyed() { return false; }
  async loadURL(url) {
    const p = this.options.webPreferences;
    seen.windows.push({ url, webPreferences: p, preloadExists: existsSync(p.preload) });
    await drive(this).catch((e) => { seen.error = String(e && e.stack || e); });
    writeFileSync(process.env.FAKE_ELECTRON_REPORT, JSON.stringify(seen, null, 2));
    process.exit(0);
  }
}

/** What Electron and the renderer would do once the window shows. */
async function drive(win) {
  const origin = 'app://kvmdump';
  const index = await protocolHandler.fn(new Request(`${origin}/index.html`));
  seen.checks.index = { status: index.status, csp: index.headers.get('content-security-policy'), html: (await index.text()).includes('<div id="app">') };
  const escape = await protocolHandler.fn(new Request(`${origin}/..%2f..%2fpackage.json`));
  seen.checks.escapeStatus = escape.status;
  const ipc = (op, args, url = `${origin}/index.html`) => ipcHandlers.get(`kvmdump:op:${op}`)({ senderFrame: url ? { url } : null }, args);
  seen.ipc.channels = [...ipcHandlers.keys()];
  seen.ipc.untrusted = await ipc('appInfo', {}, 'https://evil.example/');
  seen.ipc.noFrame = await ipc('appInfo', {}, null);
  const info = await ipc('appInfo', {});
  seen.ipc.appInfo = info;
  if (info.ok && info.value.initialSessionId) {
    const sym = await ipc('nlist', { sessionId: info.value.initialSessionId, names: ['dumpmag'] });
    seen.ipc.nlist = sym;
    const va = sym.ok ? sym.value.entries[0].value : null;
    if (va) seen.ipc.read = await ipc('read', { sessionId: info.value.initialSessionId, va, length: 4 });
  }
  seen.ipc.badArgs = await ipc('read', { sessionId: 'x', va: 12, length: -1 });
  seen.preload = await drivePreload(win, info);
  const wc = win.webContents;
  const nav = { prevented: false, preventDefault() { this.prevented = true; } };
  for (const fn of wc.listeners['will-navigate'] ?? []) fn(nav, 'https://evil.example/');
  seen.checks.navigationBlocked = nav.prevented;
  seen.checks.windowOpen = wc.windowOpen ? wc.windowOpen({ url: 'https://evil.example/' }) : null;
}

/**
 * Load the built preload as a sandboxed preload runs (CommonJS, with 'electron' limited to the
 * renderer modules) and use what it exposes the way the renderer does: calls, a job and its events.
 */
async function drivePreload(win, info) {
  const out = {};
  const path = win.options.webPreferences.preload;
  const realRequire = createRequire(path);
  const fake = { ipcRenderer, contextBridge };
  const module = { exports: {} };
  new Function('require', 'module', 'exports', readFileSync(path, 'utf8'))(
    (id) => (id === 'electron' ? fake : realRequire(id)), module, module.exports,
  );
  const api = exposed.kvmdump;
  out.exposed = Object.keys(api ?? {});
  if (!api) return out;
  const sessionId = info.ok ? info.value.initialSessionId : null;
  const sym = await api.nlist({ sessionId, names: ['dumpmag'] });
  out.read = sym.ok ? await api.read({ sessionId, va: sym.value.entries[0].value, length: 4 }) : sym;
  out.header = await api.header({ sessionId });
  out.badArgs = await api.kvatop({ sessionId, va: 'not an address' });
  out.pickFile = await api.pickFile({ title: 'Dump image, device or core file' });
  out.pickFileCancelled = await api.pickFile({});
  out.pickSaveFile = await api.pickSaveFile({ title: 'wrtheader output' });
  // A scan job: its events arrive through webContents.send → the preload's onJobEvent.
  const events = [];
  let stop = () => undefined;
  const ended = new Promise((resolve) => {
    stop = api.onJobEvent((e) => {
      events.push(e);
      if (e.state !== 'running') resolve(e);
    });
  });
  const started = await api.startScan({ path: process.argv[process.argv.indexOf('--dump') + 1] });
  out.scanStarted = started;
  if (started.ok) {
    out.scanEnd = await Promise.race([ended, new Promise((r) => setTimeout(() => r('timeout'), 20000))]);
    out.jobStatus = await api.jobStatus({ jobId: started.value.jobId });
  }
  stop();
  out.events = events.length;
  out.listenersAfterUnsubscribe = [...(rendererListeners.values())].reduce((n, set) => n + set.size, 0);
  return out;
}
