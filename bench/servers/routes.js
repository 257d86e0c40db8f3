// The routes every setup answers, written once as a node-wsgi app and once as raw node:http.
const HELLO = Buffer.from('Hello, World!');
export const STREAM_CHUNK = Buffer.alloc(64 * 1024, 120);

/** Bytes `/stream?mib=N` sends. */
export function streamBytes(query) {
  const match = /(?:^|&)mib=(\d+)/.exec(query ?? '');
  return (match ? Number(match[1]) : 64) * 1024 * 1024;
}

/** The node-wsgi version: `/` says hello, `/stream` sends N MiB, `/upload` counts the body. */
export async function wsgiApp(environ, startResponse) {
  const path = environ.PATH_INFO;
  if (path === '/stream') {
    const total = streamBytes(environ.QUERY_STRING);
    startResponse('200 OK', [['Content-Type', 'application/octet-stream'], ['Content-Length', String(total)]]);
    return (function* () {
      for (let sent = 0; sent < total; sent += STREAM_CHUNK.byteLength) yield STREAM_CHUNK;
    })();
  }
  if (path === '/upload') {
    let bytes = 0;
    for await (const chunk of environ['wsgi.input']) bytes += chunk.byteLength;
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    return [String(bytes)];
  }
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [HELLO];
}

/** The raw node:http version of the same routes. */
export function nodeListener(req, res) {
  const [path, query] = req.url.split('?');
  if (path === '/stream') {
    const total = streamBytes(query);
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': total });
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        sent += STREAM_CHUNK.byteLength;
        if (!res.write(STREAM_CHUNK)) return void res.once('drain', pump);
      }
      res.end();
    };
    return pump();
  }
  if (path === '/upload') {
    let bytes = 0;
    req.on('data', (chunk) => (bytes += chunk.byteLength));
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(String(bytes));
    });
    return;
  }
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': HELLO.byteLength });
  res.end(HELLO);
}
