// The Koa app wrapped as a node-wsgi app: serve(fromKoa(app)).
import { serve } from '@node-wsgi/core';
import { fromKoa } from '@node-wsgi/koa';
import { reportReady } from './report.js';
import { koaApp } from './routes.js';

reportReady(await serve(fromKoa(await koaApp()), { port: 0, handleSignals: false }));
