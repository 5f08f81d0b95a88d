// The Electron main process: app lifecycle and the window. Everything the window may ask for goes
// through the same handler layer as serve mode (main/app); this file only wires it to Electron.

import { app, BrowserWindow, session } from 'electron';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHandlers, type Handlers } from '../app/handlers.ts';
import { appIconPath } from '../app/paths.ts';
import { openAtStartup, parseStartupArgs } from '../app/startup.ts';
import { electronDialogs } from './dialogs.ts';
import { registerIpc } from './ipc.ts';
import { registerAppScheme, serveAppScheme } from './protocol.ts';
import { APP_ORIGIN, hardenApp, hardenSession, trustedOrigins } from './security.ts';

const here = fileURLToPath(new URL('.', import.meta.url)); // out/main/
const devServerUrl = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined;
const trusted = trustedOrigins(devServerUrl);
let mainWindow: BrowserWindow | null = null;
let handlers: Handlers | null = null;

registerAppScheme();
app.enableSandbox();
hardenApp(app, trusted);

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 860,
    title: 'kvmdump workbench',
    icon: appIconPath(),
    show: false,
    webPreferences: {
      preload: join(here, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => (mainWindow = null));
  void win.loadURL(devServerUrl ?? `${APP_ORIGIN}/index.html`);
  return win;
}

async function start(): Promise<void> {
  await app.whenReady();
  hardenSession(session.defaultSession);
  serveAppScheme(join(here, '../renderer'));
  const args = parseStartupArgs(process.argv.slice(1));
  handlers = createHandlers({
    mode: 'electron',
    userDataDir: app.getPath('userData'),
    allowWrite: args.allowWrite,
    dialogs: electronDialogs(() => mainWindow),
    version: app.getVersion(),
    onInternalError: (op, e) => console.error(`kvmdump: ${op}:`, e),
  });
  registerIpc(handlers, trusted, () => mainWindow);
  const opened = await openAtStartup(handlers, args.request, args.request === null && args.error === null);
  if (args.error) handlers.setStartup({ initialSessionId: null, startupMessage: args.error });
  else if (opened.message) console.warn(`kvmdump: ${opened.message}`);
  mainWindow = createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) mainWindow = createWindow();
  });
}

app.on('window-all-closed', () => app.quit());

// Close every dump (device handles included) before the process exits.
let shuttingDown = false;
app.on('will-quit', (event) => {
  if (shuttingDown || !handlers) return;
  shuttingDown = true;
  event.preventDefault();
  void handlers.shutdown().finally(() => app.quit());
});

start().catch((e: unknown) => {
  console.error('kvmdump: failed to start:', e);
  app.exit(1);
});
