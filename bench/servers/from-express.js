// fromExpress(app) behind a pass-through node-wsgi middleware, served by serve(): the synthetic
// request and response are used (no round trip), which is what composing with middleware costs.
import { serve } from '@node-wsgi/core';
import { fromExpress } from '@node-wsgi/express';
import { reportReady } from './report.js';
import { expressApp, passThrough } from './routes.js';

reportReady(await serve(passThrough(fromExpress(await expressApp())), { port: 0, handleSignals: false }));
