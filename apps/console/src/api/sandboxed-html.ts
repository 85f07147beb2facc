/**
 * The Content-Security-Policy of HTML shown in a sandboxed frame (email bodies: template previews,
 * the dev inbox): a unique origin, no script, no network, inline styles and data: images only.
 */
export const SANDBOXED_HTML_CSP = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'";
