// Native Express routes.
import { reportReady } from './report.js';
import { expressApp } from './routes.js';

const server = (await expressApp()).listen(0, '127.0.0.1', () => reportReady(server));
