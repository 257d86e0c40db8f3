// @node-wsgi/core: PEP 3333 (WSGI) for Node.js — the app contract, its gateway, a reference server and the toolkit around them.

// The contract.
export type { App, Body, Chunk, Environ, Errors, FileWrapper, Input, StartResponse, Write } from './types.js';
export { InputError } from './input.js';
export { HeadersAlreadySetError } from './start-response.js';
export { WsgiAppError } from './app-error.js';

// Serving, and the two directions between apps and Node listeners.
export { serve, serverUrl, type ServeOptions } from './server.js';
export { runOnNode, toNodeListener, type NodeListener, type NodeListenerOptions, type RunOnNodeOptions } from './node.js';
export { fromNodeListener, RESPONSE_HIGH_WATER_MARK } from './from-node.js';

// Middleware.
export { mount } from './middleware/mount.js';
export { proxyFix, type ProxyFixOptions, type ProxyFixOriginal } from './middleware/proxy-fix.js';
export { staticFiles, type StaticFilesOptions } from './middleware/static-files.js';

// Checking and testing.
export { validate, WsgiValidationError, type WsgiSide } from './validate.js';
export { testClient, type TestClient, type TestHeaders, type TestRequestInit, type TestResponse } from './testing.js';

// Helpers after wsgiref.util, and wsgi.errors sinks.
export { applicationUri, decodeLatin1, requestUri, shiftPathInfo } from './util.js';
export { LogErrors, stderrErrors } from './errors.js';

// Building blocks for gateways on other hosts: the framework adapters are made of these.
export { AppResponse, runApp, isBodylessStatus } from './gateway.js';
export { errorForHost } from './app-error.js';
export { hostEnviron, guardKeepAlive, closeOnDisconnect, declaredBodyLength, DEFAULT_DRAIN_LIMIT, type HostRequestOptions } from './host.js';
export type { HostBody } from './host-input.js';
export { sendResponse } from './node-response.js';
export { ResponseReadable } from './response-readable.js';
export { applyHeaders, hasHeader, type HeaderTarget } from './host-headers.js';
export { hasAmbiguousEscape } from './mount-path.js';
