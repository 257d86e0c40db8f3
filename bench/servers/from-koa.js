// Behind a pass-through node-wsgi middleware, served by serve(): the synthetic request and response
// are used (no round trip), which is what composing with middleware costs.
import { serve } from '@node-wsgi/core';
import { fromKoa } from '@node-wsgi/koa';
import { reportReady } from './report.js';
import { koaApp, passThrough } from './routes.js';

reportReady(await serve(passThrough(fromKoa(await koaApp())), { port: 0, handleSignals: false }));
