// The plain node-wsgi app of the demo: the classic WSGI demo app, which lists its environ, plus a
// streaming endpoint and a form that echoes its body. Plain JavaScript against the contract.
import { decodeLatin1, requestUri } from '@node-wsgi/core';
import { escapeHtml, page } from './page.js';

function environPage(environ) {
  const rows = Object.keys(environ)
    .sort()
    .map((key) => {
      const value = environ[key];
      const shown = typeof value === 'string' ? value : Array.isArray(value) ? JSON.stringify(value) : typeof value === 'object' ? `[${value?.constructor?.name ?? 'object'}]` : String(value);
      return `<tr><td>${escapeHtml(key)}</td><td>${escapeHtml(shown)}</td></tr>`;
    })
    .join('');
  return page(
    'node-wsgi demo',
    `<h1>Hello from node-wsgi</h1>
<p>This page is a node-wsgi app: <code>app(environ, startResponse)</code>, served by the reference server.
You asked for <code>${escapeHtml(requestUri(environ))}</code> (path as text: <code>${escapeHtml(decodeLatin1(environ.PATH_INFO))}</code>).</p>
<ul><li><a href="stream">stream</a>: a body that arrives a line at a time</li>
<li><form method="post" action="echo" style="display:inline"><input name="message" value="héllo"> <button>POST to echo</button></form></li></ul>
<h2>environ</h2><table>${rows}</table>`,
  );
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The demo app. */
export async function demoApp(environ, startResponse) {
  const path = environ.PATH_INFO;
  if (path === '/stream') {
    startResponse('200 OK', [['Content-Type', 'text/plain; charset=utf-8'], ['Cache-Control', 'no-store']]);
    let stopped = false;
    const body = (async function* () {
      for (let i = 1; i <= 10 && !stopped; i++) {
        yield `tick ${i} of 10 at ${new Date().toISOString()}\n`;
        await sleep(300);
      }
    })();
    // close() runs however the response ends, the client leaving early included.
    body.close = () => {
      stopped = true;
    };
    return body;
  }
  if (path === '/echo' && environ.REQUEST_METHOD === 'POST') {
    const bytes = await environ['wsgi.input'].read();
    const text = Buffer.from(bytes).toString('utf8');
    startResponse('200 OK', [['Content-Type', 'text/html; charset=utf-8']]);
    return [page('echo', `<h1>You sent ${bytes.byteLength} bytes</h1><pre>${escapeHtml(text)}</pre><p><a href="./">back</a></p>`)];
  }
  if (path === '/' || path === '') {
    startResponse('200 OK', [['Content-Type', 'text/html; charset=utf-8']]);
    return [environPage(environ)];
  }
  startResponse('404 Not Found', [['Content-Type', 'text/plain; charset=utf-8']]);
  return ['Not Found\n'];
}
