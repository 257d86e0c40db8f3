// fromExpress(app) served by serve(), as issue 6 names it: a round trip, so Express gets the real
// request and response (no synthetic pair), exactly as `app.listen()` would give it.
import { serve } from '@node-wsgi/core';
import { fromExpress } from '@node-wsgi/express';
import { reportReady } from './report.js';
import { expressApp } from './routes.js';

reportReady(await serve(fromExpress(await expressApp()), { port: 0, handleSignals: false }));
