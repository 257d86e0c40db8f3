// @node-wsgi/core: PEP 3333 (WSGI) for Node.js — the app contract, its gateway, a reference server and the toolkit around them.
export type { App, Body, Chunk, Environ, Errors, FileWrapper, Input, StartResponse, Write } from './types.js';
export { toNodeListener, type NodeListener, type NodeListenerOptions } from './node.js';
export { serve, serverUrl, type ServeOptions } from './server.js';
export { applicationUri, decodeLatin1, requestUri, shiftPathInfo } from './util.js';
export { InputError } from './input.js';
export { HeadersAlreadySetError } from './start-response.js';
