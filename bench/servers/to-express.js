// The node-wsgi app mounted in Express: toExpress(app).
import express from 'express';
import { toExpress } from '@node-wsgi/express';
import { reportReady } from './report.js';
import { wsgiApp } from './routes.js';

const app = express();
app.use(toExpress(wsgiApp));
const server = app.listen(0, '127.0.0.1', () => reportReady(server));
