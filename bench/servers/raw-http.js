// Baseline: raw node:http.
import http from 'node:http';
import { reportReady } from './report.js';
import { nodeListener } from './routes.js';

const server = http.createServer(nodeListener);
server.listen(0, '127.0.0.1', () => reportReady(server));
