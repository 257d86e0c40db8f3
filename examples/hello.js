// Serve a plain node-wsgi app with the reference server: `node examples/hello.js`.
import { serve, serverUrl } from '@node-wsgi/core';

export function hello(environ, startResponse) {
  startResponse('200 OK', [['Content-Type', 'text/plain; charset=utf-8']]);
  return [`Hello, ${environ.REMOTE_ADDR}! You asked for ${environ.PATH_INFO}\n`];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const server = await serve(hello, { port: Number(process.env.PORT ?? 8000) });
  console.log(`${serverUrl(server)}/`);
}
