// The demo's Fastify app: a page that shows server-sent events as they arrive through the bridge.
import { Readable } from 'node:stream';
import Fastify from 'fastify';
import { page } from './page.js';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function createFastifyApp() {
  const fastify = Fastify();
  fastify.get('/', async (request, reply) => {
    reply.type('text/html; charset=utf-8');
    return page(
      'Fastify, wrapped',
      `<h1>A Fastify app, served through node-wsgi</h1>
<p>Server-sent events, streamed by Fastify through the bridge one at a time:</p>
<ol id="events"></ol><p id="status">connecting…</p>
<script>
const list = document.getElementById('events'), status = document.getElementById('status');
const source = new EventSource('events');
source.onmessage = (e) => { const li = document.createElement('li'); li.textContent = e.data; list.append(li); status.textContent = 'streaming…'; };
source.addEventListener('done', () => { status.textContent = 'done'; source.close(); });
</script><p><a href="../">back to the index</a></p>`,
    );
  });
  fastify.get('/events', (request, reply) => {
    reply.header('Content-Type', 'text/event-stream').header('Cache-Control', 'no-store');
    reply.send(
      Readable.from(
        (async function* () {
          for (let i = 1; i <= 5; i++) {
            yield `data: event ${i} of 5 at ${new Date().toISOString()}\n\n`;
            await sleep(400);
          }
          yield 'event: done\ndata: bye\n\n';
        })(),
      ),
    );
  });
  return fastify;
}
