// main/electron/security.ts with fake app / webContents / session objects: navigation, new windows,
// webviews and permissions are denied; IPC is trusted only from our renderer's frames.

import { describe, expect, test, vi } from 'vitest';
import { CSP_HEADER } from '../../main/app/csp.ts';
import {
  hardenApp, hardenSession, hardenWebContents, isTrustedSender, isTrustedUrl, trustedOrigins, type WebContentsLike,
} from '../../main/electron/security.ts';

type Listener = (...args: unknown[]) => void;

function fakeContents() {
  const listeners = new Map<string, Listener>();
  let openHandler: ((d: { url: string }) => { action: string }) | null = null;
  const contents: WebContentsLike = {
    on: ((event: string, l: Listener) => listeners.set(event, l)) as WebContentsLike['on'],
    setWindowOpenHandler: (h) => (openHandler = h),
  };
  const fire = (event: string, url?: string) => {
    const e = { preventDefault: vi.fn() };
    listeners.get(event)?.(e, url);
    return e.preventDefault.mock.calls.length > 0;
  };
  return { contents, fire, open: (url: string) => openHandler?.({ url }) };
}

const trusted = trustedOrigins();

describe('web contents', () => {
  test('navigation to another origin (or scheme) is prevented', () => {
    const f = fakeContents();
    hardenWebContents(f.contents, trusted);
    for (const url of ['https://example.com/', 'file:///etc/passwd', 'app://other/index.html', 'javascript:alert(1)', 'not a url']) {
      expect(f.fire('will-navigate', url), url).toBe(true);
      expect(f.fire('will-redirect', url), url).toBe(true);
    }
  });
  test('navigation within the app is allowed', () => {
    const f = fakeContents();
    hardenWebContents(f.contents, trusted);
    expect(f.fire('will-navigate', 'app://kvmdump/index.html')).toBe(false);
  });
  test('window.open is always denied', () => {
    const f = fakeContents();
    hardenWebContents(f.contents, trusted);
    expect(f.open('https://example.com')).toEqual({ action: 'deny' });
    expect(f.open('app://kvmdump/index.html')).toEqual({ action: 'deny' });
  });
  test('webviews are never attached', () => {
    const f = fakeContents();
    hardenWebContents(f.contents, trusted);
    expect(f.fire('will-attach-webview')).toBe(true);
  });
  test('hardenApp applies all of it to every web contents the app creates', () => {
    let created: Listener | null = null;
    hardenApp({ on: (_e, l) => (created = l as Listener) }, trusted);
    const f = fakeContents();
    created!({}, f.contents);
    expect(f.fire('will-navigate', 'https://example.com')).toBe(true);
    expect(f.open('https://example.com')).toEqual({ action: 'deny' });
  });
});

describe('session', () => {
  test('permission requests and checks are denied, and responses get the CSP header', () => {
    let request: ((wc: unknown, p: string, cb: (g: boolean) => void) => void) | null = null;
    let check: ((wc: unknown, p: string) => boolean) | null = null;
    let headers: ((d: { responseHeaders?: Record<string, string[] | string> }, cb: (r: { responseHeaders: Record<string, string[] | string> }) => void) => void) | null = null;
    hardenSession({
      setPermissionRequestHandler: (h) => (request = h),
      setPermissionCheckHandler: (h) => (check = h),
      webRequest: { onHeadersReceived: (l) => (headers = l) },
    });
    for (const p of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal']) {
      const cb = vi.fn();
      request!({}, p, cb);
      expect(cb).toHaveBeenCalledWith(false);
      expect(check!({}, p)).toBe(false);
    }
    const cb = vi.fn();
    headers!({ responseHeaders: { 'Content-Type': ['text/html'] } }, cb);
    expect(cb).toHaveBeenCalledWith({ responseHeaders: { 'Content-Type': ['text/html'], 'Content-Security-Policy': [CSP_HEADER] } });
  });
});

describe('IPC senders', () => {
  test('only frames showing our renderer are trusted', () => {
    expect(isTrustedSender({ senderFrame: { url: 'app://kvmdump/index.html' } }, trusted)).toBe(true);
    expect(isTrustedSender({ senderFrame: { url: 'https://evil.example/' } }, trusted)).toBe(false);
    expect(isTrustedSender({ senderFrame: { url: 'file:///tmp/x.html' } }, trusted)).toBe(false);
    expect(isTrustedSender({ senderFrame: { url: 'app://kvmdump.evil/index.html' } }, trusted)).toBe(false);
    expect(isTrustedSender({ senderFrame: null }, trusted)).toBe(false);
  });
  test('the dev server origin is trusted only when given', () => {
    const dev = trustedOrigins('http://localhost:5173/');
    expect(isTrustedUrl('http://localhost:5173/index.html', dev)).toBe(true);
    expect(isTrustedUrl('http://localhost:5173/index.html', trusted)).toBe(false);
    expect(isTrustedUrl('http://localhost:5174/', dev)).toBe(false);
  });
});
