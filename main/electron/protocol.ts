// The app:// scheme the renderer is loaded from: files come only from the built renderer
// directory, and every response carries the CSP header (file:// could carry none).

import { protocol } from 'electron';
import { CSP_HEADER } from '../app/csp.ts';
import { staticFile } from '../serve/static.ts';
import { APP_HOST, APP_SCHEME } from './security.ts';

/** Must run before app 'ready'. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true } }]);
}

export function serveAppScheme(rendererRoot: string): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    if (url.host !== APP_HOST) return new Response('not found', { status: 404 });
    const file = await staticFile(rendererRoot, url.pathname);
    if (!file) return new Response('not found', { status: 404 });
    return new Response(new Uint8Array(file.body), {
      headers: { 'Content-Type': file.type, 'Content-Security-Policy': CSP_HEADER, 'X-Content-Type-Options': 'nosniff' },
    });
  });
}
