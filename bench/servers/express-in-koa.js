// Express inside Koa through node-wsgi: toKoa(fromExpress(app)).
import Koa from 'koa';
import { fromExpress } from '@node-wsgi/express';
import { toKoa } from '@node-wsgi/koa';
import { reportReady } from './report.js';
import { expressApp } from './routes.js';

const koa = new Koa();
koa.use(toKoa(fromExpress(await expressApp())));
const server = koa.listen(0, '127.0.0.1', () => reportReady(server));
