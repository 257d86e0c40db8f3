// Native Koa middleware.
import { reportReady } from './report.js';
import { koaApp } from './routes.js';

const server = (await koaApp()).listen(0, '127.0.0.1', () => reportReady(server));
