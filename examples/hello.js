// The smallest node-wsgi app, served by the reference server: `node examples/hello.js`.
import { serve } from '@node-wsgi/core';

function app(environ, startResponse) {
  startResponse('200 OK', [['Content-Type', 'text/plain; charset=utf-8']]);
  return [`Hello, ${environ.REMOTE_ADDR}! You asked for ${environ.PATH_INFO}\n`];
}

await serve(app, { port: 8000 });
console.log('http://127.0.0.1:8000/');
