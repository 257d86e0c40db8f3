// A tiny HTML shell shared by the demo's apps, whatever framework renders them.
export const escapeHtml = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

export const page = (title, body) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.6rem}code{background:#f3f3f3;padding:0 .25rem;border-radius:3px}
table{border-collapse:collapse;width:100%}td{border-top:1px solid #ddd;padding:.2rem .5rem;vertical-align:top;font-family:monospace;word-break:break-all}
td:first-child{white-space:nowrap;font-weight:600}li{margin:.3rem 0}#events li{font-family:monospace}</style></head>
<body>${body}</body></html>`;
