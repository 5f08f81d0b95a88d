// The Content-Security-Policy of the renderer, shared by Electron (response header) and serve mode
// (HTTP header); renderer/index.html carries the same policy as a meta tag (a test keeps them
// equal). No eval, no inline script, nothing from another origin.

export const CSP_DIRECTIVES = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
] as const;

/** The meta-tag form (frame-ancestors is ignored in meta tags, so it lives only in the header). */
export const CSP_META = CSP_DIRECTIVES.join('; ');
export const CSP_HEADER = `${CSP_META}; frame-ancestors 'none'`;
