// node-wsgi's reference server: serve(app).
import { serve } from '@node-wsgi/core';
import { reportReady } from './report.js';
import { wsgiApp } from './routes.js';

const server = await serve(wsgiApp, { port: 0, handleSignals: false });
reportReady(server);
