// Peer: a fetch handler on @whatwg-node/server over node:http.
import http from 'node:http';
import { createServerAdapter } from '@whatwg-node/server';
import { reportReady } from './report.js';
import { fetchHandler } from './routes.js';

const server = http.createServer(createServerAdapter(fetchHandler));
server.listen(0, '127.0.0.1', () => reportReady(server));
