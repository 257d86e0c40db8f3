// @node-wsgi/fastify: filled by the adapter issues.
export {};
