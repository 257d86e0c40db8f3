// @node-wsgi/koa: filled by the adapter issues.
export {};
