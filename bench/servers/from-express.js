// Through the bridge: served by serve() behind a pass-through middleware (so not the round trip).
import { serve } from '@node-wsgi/core';
import { fromExpress } from '@node-wsgi/express';
import { reportReady } from './report.js';
import { expressApp, passThrough } from './routes.js';

reportReady(await serve(passThrough(fromExpress(await expressApp())), { port: 0, handleSignals: false }));
