// Through the bridge: served by serve() behind a pass-through middleware (so not the round trip).
import { serve } from '@node-wsgi/core';
import { fromKoa } from '@node-wsgi/koa';
import { reportReady } from './report.js';
import { koaApp, passThrough } from './routes.js';

reportReady(await serve(passThrough(fromKoa(await koaApp())), { port: 0, handleSignals: false }));
