// @node-wsgi/koa: node-wsgi apps as Koa middleware, and Koa apps as node-wsgi apps.
export { toKoa, type ToKoaOptions } from './to-koa.js';
export { fromKoa } from './from-koa.js';
