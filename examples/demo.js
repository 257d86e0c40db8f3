// `npm start`: serves the demo app on http://127.0.0.1:8000 (PORT and HOST override).
import { serve, serverUrl } from '@node-wsgi/core';
import { demoApp } from './demo-app.js';

const server = await serve(demoApp, {
  host: process.env.HOST ?? '127.0.0.1',
  port: Number(process.env.PORT ?? 8000),
});
console.log(`node-wsgi demo: ${serverUrl(server)}/  (stream: ${serverUrl(server)}/stream; Ctrl+C stops)`);
