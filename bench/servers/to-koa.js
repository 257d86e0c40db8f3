// The node-wsgi app used as Koa middleware: toKoa(app).
import Koa from 'koa';
import { toKoa } from '@node-wsgi/koa';
import { reportReady } from './report.js';
import { wsgiApp } from './routes.js';

const koa = new Koa();
koa.use(toKoa(wsgiApp));
const server = koa.listen(0, '127.0.0.1', () => reportReady(server));
