// @node-wsgi/fastify: node-wsgi apps as Fastify plugins, and Fastify instances as node-wsgi apps.
export { toFastify, type ToFastifyOptions } from './to-fastify.js';
export { fromFastify } from './from-fastify.js';
