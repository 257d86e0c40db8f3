// @node-wsgi/express: node-wsgi apps as Express middleware, and Express apps as node-wsgi apps.
export { toExpress, type ToExpressOptions } from './to-express.js';
export { fromExpress } from './from-express.js';
