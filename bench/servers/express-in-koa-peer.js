// Peer: Express inside Koa through koa-connect.
import Koa from 'koa';
import c2k from 'koa-connect';
import { reportReady } from './report.js';
import { expressApp } from './routes.js';

const koa = new Koa();
koa.use(c2k(await expressApp()));
const server = koa.listen(0, '127.0.0.1', () => reportReady(server));
