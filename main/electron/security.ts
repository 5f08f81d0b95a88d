// Every restriction the Electron side puts on web content, in one module: no navigation away from
// the app, no new windows, no webviews, no permission grants, a CSP header on everything we serve,
// and IPC answered only for frames showing our own renderer. Written against small structural
// types (not electron's classes) so tests can drive it with fakes.

import { CSP_HEADER } from '../app/csp.ts';

/** The origins our renderer is loaded from: app://kvmdump, plus the dev server in development. */
export interface TrustedOrigins {
  readonly origins: readonly string[];
}

export const APP_SCHEME = 'app';
export const APP_HOST = 'kvmdump';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

export function trustedOrigins(devServerUrl?: string | undefined): TrustedOrigins {
  const origins = [APP_ORIGIN];
  if (devServerUrl) origins.push(new URL(devServerUrl).origin);
  return { origins };
}

export function isTrustedUrl(url: string, trusted: TrustedOrigins): boolean {
  try {
    const u = new URL(url);
    // app:// is a registered standard scheme, so URL parses its origin like http's.
    const origin = u.protocol === `${APP_SCHEME}:` ? `${u.protocol}//${u.host}` : u.origin;
    return trusted.origins.includes(origin);
  } catch {
    return false;
  }
}

interface PreventableEvent {
  preventDefault(): void;
}

export interface WebContentsLike {
  on(event: 'will-navigate' | 'will-redirect', listener: (e: PreventableEvent, url: string) => void): unknown;
  on(event: 'will-attach-webview', listener: (e: PreventableEvent) => void): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
}

export interface SessionLike {
  setPermissionRequestHandler(handler: (wc: unknown, permission: string, callback: (granted: boolean) => void) => void): void;
  setPermissionCheckHandler(handler: (wc: unknown, permission: string) => boolean): void;
  webRequest: {
    onHeadersReceived(listener: (details: { responseHeaders?: Record<string, string[] | string> }, callback: (r: { responseHeaders: Record<string, string[] | string> }) => void) => void): void;
  };
}

export interface AppLike {
  on(event: 'web-contents-created', listener: (e: unknown, contents: WebContentsLike) => void): unknown;
}

/** Navigation only within our renderer; window.open, webviews: never. */
export function hardenWebContents(contents: WebContentsLike, trusted: TrustedOrigins): void {
  const guard = (e: PreventableEvent, url: string) => {
    if (!isTrustedUrl(url, trusted)) e.preventDefault();
  };
  contents.on('will-navigate', guard);
  contents.on('will-redirect', guard);
  contents.on('will-attach-webview', (e) => e.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

/** No camera, notifications, clipboard-read, …: the workbench needs no permission at all. */
export function hardenSession(session: SessionLike): void {
  session.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP_HEADER] } });
  });
}

/** Apply hardenWebContents to every web contents the app ever creates (also ones we did not expect). */
export function hardenApp(app: AppLike, trusted: TrustedOrigins): void {
  app.on('web-contents-created', (_e, contents) => hardenWebContents(contents, trusted));
}

export interface IpcEventLike {
  senderFrame: { url: string } | null;
}

/** IPC is answered only for a live frame that shows our renderer. */
export function isTrustedSender(event: IpcEventLike, trusted: TrustedOrigins): boolean {
  const frame = event.senderFrame;
  return frame !== null && isTrustedUrl(frame.url, trusted);
}
