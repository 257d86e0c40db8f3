// The routes every setup answers, written once as a node-wsgi app and once as raw node:http.
const HELLO = Buffer.from('Hello, World!');
export const STREAM_CHUNK = Buffer.alloc(64 * 1024, 120);

/** Bytes `/stream?mib=N` sends. */
export function streamBytes(query) {
  const match = /(?:^|&)mib=(\d+)/.exec(query ?? '');
  return (match ? Number(match[1]) : 64) * 1024 * 1024;
}

/**
 * The node-wsgi version: `/` says hello, `/stream` sends N MiB, `/upload` counts the body. Synchronous
 * where the work is (a plain WSGI app is); only the upload, which must wait for the body, is async.
 */
export function wsgiApp(environ, startResponse) {
  const path = environ.PATH_INFO;
  if (path === '/stream') {
    const total = streamBytes(environ.QUERY_STRING);
    startResponse('200 OK', [['Content-Type', 'application/octet-stream'], ['Content-Length', String(total)]]);
    return (function* () {
      for (let sent = 0; sent < total; sent += STREAM_CHUNK.byteLength) yield STREAM_CHUNK;
    })();
  }
  if (path === '/upload') return countUpload(environ, startResponse);
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [HELLO];
}

async function countUpload(environ, startResponse) {
  let bytes = 0;
  for await (const chunk of environ['wsgi.input']) bytes += chunk.byteLength;
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [String(bytes)];
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


/** A Readable of `total` bytes in 64 KiB chunks, honouring backpressure. */
export async function* streamChunks(total) {
  for (let sent = 0; sent < total; sent += STREAM_CHUNK.byteLength) yield STREAM_CHUNK;
}

/** The same routes as an Express app (idiomatic: res.send, a piped stream). */
export async function expressApp() {
  const { default: express } = await import('express');
  const { Readable } = await import('node:stream');
  const app = express();
  app.get('/', (req, res) => {
    res.type('text/plain').send('Hello, World!');
  });
  app.get('/stream', (req, res) => {
    const total = streamBytes(req.url.split('?')[1]);
    res.set({ 'Content-Type': 'application/octet-stream', 'Content-Length': String(total) });
    Readable.from(streamChunks(total)).pipe(res);
  });
  app.post('/upload', (req, res) => {
    let bytes = 0;
    req.on('data', (chunk) => (bytes += chunk.byteLength));
    req.on('end', () => res.type('text/plain').send(String(bytes)));
  });
  return app;
}

/** The same routes as a Koa app; `{ bytes: true }` answers `/` with a Buffer, as a node-wsgi body is bytes. */
export async function koaApp({ bytes = false } = {}) {
  const { default: Koa } = await import('koa');
  const { Readable } = await import('node:stream');
  const app = new Koa();
  app.use(async (ctx) => {
    if (ctx.path === '/stream') {
      const total = streamBytes(ctx.querystring);
      ctx.type = 'application/octet-stream';
      ctx.length = total;
      ctx.body = Readable.from(streamChunks(total));
    } else if (ctx.path === '/upload') {
      let bytes = 0;
      for await (const chunk of ctx.req) bytes += chunk.byteLength;
      ctx.type = 'text/plain';
      ctx.body = String(bytes);
    } else {
      ctx.type = 'text/plain';
      ctx.body = bytes ? HELLO : 'Hello, World!';
    }
  });
  return app;
}

/** The same routes as Fastify routes, registered on `fastify`; `{ bytes: true }` answers `/` with a Buffer. */
export async function fastifyRoutes(fastify, { bytes = false } = {}) {
  const { Readable } = await import('node:stream');
  fastify.get('/', (request, reply) => {
    reply.type('text/plain').send(bytes ? HELLO : 'Hello, World!');
  });
  fastify.get('/stream', (request, reply) => {
    const total = streamBytes(request.url.split('?')[1]);
    reply.type('application/octet-stream').header('content-length', String(total));
    reply.send(Readable.from(streamChunks(total)));
  });
  fastify.addContentTypeParser('*', (request, payload, done) => done(null));
  fastify.post('/upload', async (request, reply) => {
    let bytes = 0;
    for await (const chunk of request.raw) bytes += chunk.byteLength;
    reply.type('text/plain');
    return String(bytes);
  });
}

/** The same routes as a fetch handler (Request → Response), for the fetch bridges. */
export async function fetchHandler(request) {
  const url = new URL(request.url);
  if (url.pathname === '/stream') {
    const total = streamBytes(url.search.slice(1));
    const iterator = streamChunks(total);
    const body = new ReadableStream({
      async pull(controller) {
        const { value, done } = await iterator.next();
        if (done) controller.close();
        else controller.enqueue(new Uint8Array(value));
      },
    });
    return new Response(body, { headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(total) } });
  }
  if (url.pathname === '/upload') {
    const bytes = (await request.arrayBuffer()).byteLength;
    return new Response(String(bytes), { headers: { 'Content-Type': 'text/plain' } });
  }
  return new Response('Hello, World!', { headers: { 'Content-Type': 'text/plain' } });
}

/**
 * A pass-through node-wsgi middleware. `serve(fromExpress(app))` alone is a round trip that hands
 * Express the real request (no bridge at all); behind any middleware the synthetic request and
 * response are used, which is what composing with node-wsgi middleware costs.
 */
export function passThrough(app) {
  return (environ, startResponse) => app(environ, startResponse);
}
