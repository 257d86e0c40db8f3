// Peer: Express inside h3 (v1) through fromNodeMiddleware.
import http from 'node:http';
import { createApp, fromNodeMiddleware, toNodeListener } from 'h3';
import { reportReady } from './report.js';
import { expressApp } from './routes.js';

const app = createApp();
app.use(fromNodeMiddleware(await expressApp()));
const server = http.createServer(toNodeListener(app));
server.listen(0, '127.0.0.1', () => reportReady(server));
