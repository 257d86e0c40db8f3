// The Express app wrapped as a node-wsgi app, served by serve(): serve(fromExpress(app)).
import { serve } from '@node-wsgi/core';
import { fromExpress } from '@node-wsgi/express';
import { reportReady } from './report.js';
import { expressApp } from './routes.js';

reportReady(await serve(fromExpress(await expressApp()), { port: 0, handleSignals: false }));
