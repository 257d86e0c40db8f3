// Peer: a fetch handler on @hono/node-server.
import { serve } from '@hono/node-server';
import { reportReady } from './report.js';
import { fetchHandler } from './routes.js';

const server = serve({ fetch: fetchHandler, port: 0, hostname: '127.0.0.1' }, () => reportReady(server));
