// @node-wsgi/express: filled by the adapter issues.
export {};
