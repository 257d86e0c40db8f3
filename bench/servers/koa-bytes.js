// Native Koa middleware whose hello answer is a Buffer, as a node-wsgi body always is (a reference:
// Node writes a string body with its head in one write, a Buffer after it in a second).
import { reportReady } from './report.js';
import { koaApp } from './routes.js';

const server = (await koaApp({ bytes: true })).listen(0, '127.0.0.1', () => reportReady(server));
