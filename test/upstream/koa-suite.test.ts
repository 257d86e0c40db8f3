// Koa 3's own test suite (koajs/koa __tests__/), scenario by scenario, as differential cases: the app
// an upstream test builds, served by app.listen() and through the bridge (`serve(passThrough(fromKoa(app)))`),
// must answer the same bytes. Named after the upstream file and test. Known, accepted deviations of the
// bridge (flushHeaders not flushing early, Content-Length: 0 for a head ended without a body, ...) are
// left out; the few scenarios that touch them compare around them and say so.
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import vm from 'node:vm';
import { fromKoa, toKoa } from '@node-wsgi/koa';
import { toExpress } from '@node-wsgi/express';
import { toFastify } from '@node-wsgi/fastify';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import type { AddressInfo } from 'node:net';
import https from 'node:https';
import { serve } from '@node-wsgi/core';
import { selfSignedCertificate } from '../support/tls-cert.js';
import { throughMiddleware } from '../differential/harness.js';
import { describeUpstream, listen, listening, serveBridged, type Listening, type Scenario, type Side, type UpstreamProbe } from './upstream-harness.js';

const PKG = path.join(import.meta.dirname, '..', '..', 'package.json');
const PKG_LENGTH = fs.readFileSync(PKG).length;

async function koaNative(app: Koa): Promise<Listening> {
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return listening(server);
}

const bridgedByServe = { 'serve(passThrough(fromKoa(app)))': (app: Koa) => serveBridged(fromKoa(app)) };

/** A Koa app of one middleware, as most upstream tests build it. */
function koa(mw: Koa.Middleware, options?: ConstructorParameters<typeof Koa>[0], setup?: (app: Koa) => void): () => Koa {
  return () => {
    const app = new Koa(options as never) as Koa;
    setup?.(app);
    app.use(mw);
    return app;
  };
}

const GET: UpstreamProbe = { method: 'GET', target: '/' };
const HEAD: UpstreamProbe = { method: 'HEAD', target: '/' };

// ---------------------------------------------------------------------------------------------------
// __tests__/application/respond.test.js
const respond: Array<Scenario<Koa>> = [
  {
    name: 'respond: when ctx.respond === false › should function (ctx)',
    build: koa((ctx) => {
      ctx.body = 'Hello';
      ctx.respond = false;
      const res = ctx.res;
      res.statusCode = 200;
      setImmediate(() => {
        res.setHeader('Content-Type', 'text/plain');
        res.setHeader('Content-Length', '3');
        res.end('lol');
      });
    }),
  },
  {
    name: 'respond: when ctx.respond === false › should ignore set header after header sent',
    build: koa((ctx) => {
      ctx.body = 'Hello';
      ctx.respond = false;
      const res = ctx.res;
      res.statusCode = 200;
      res.setHeader('Content-Type', 'text/plain');
      res.setHeader('Content-Length', '3');
      res.end('lol');
      ctx.set('foo', 'bar');
    }),
  },
  {
    name: 'respond: when ctx.respond === false › should ignore set status after header sent',
    build: koa((ctx) => {
      ctx.body = 'Hello';
      ctx.respond = false;
      const res = ctx.res;
      res.statusCode = 200;
      res.setHeader('Content-Type', 'text/plain');
      res.setHeader('Content-Length', '3');
      res.end('lol');
      ctx.status = 201;
    }),
  },
  {
    name: 'respond: when this.type === null › should not send Content-Type header',
    build: koa((ctx) => {
      ctx.body = '';
      ctx.type = null as unknown as string;
    }),
  },
  { name: 'respond: when HEAD is used › should not respond with the body', build: koa((ctx) => void (ctx.body = 'Hello')), probes: [HEAD] },
  { name: 'respond: when HEAD is used › should keep json headers', build: koa((ctx) => void (ctx.body = { hello: 'world' })), probes: [HEAD] },
  { name: 'respond: when HEAD is used › should keep string headers', build: koa((ctx) => void (ctx.body = 'hello world')), probes: [HEAD] },
  { name: 'respond: when HEAD is used › should keep buffer headers', build: koa((ctx) => void (ctx.body = Buffer.from('hello world'))), probes: [HEAD] },
  {
    name: 'respond: when HEAD is used › should keep stream header if set manually',
    build: koa((ctx) => {
      ctx.length = PKG_LENGTH;
      ctx.body = fs.createReadStream(PKG);
    }),
    probes: [HEAD],
  },
  {
    name: 'respond: when HEAD is used › a stream without a length (no Content-Length, no Transfer-Encoding)',
    build: koa((ctx) => {
      ctx.type = 'json';
      ctx.body = fs.createReadStream(PKG);
    }),
    probes: [HEAD],
  },
  { name: 'respond: when HEAD is used › should respond with a 404 if no body was set', build: koa(() => {}), probes: [HEAD] },
  { name: 'respond: when HEAD is used › should respond with a 200 if body = ""', build: koa((ctx) => void (ctx.body = '')), probes: [HEAD] },
  {
    name: 'respond: when HEAD is used › should not overwrite the content-type',
    build: koa((ctx) => {
      ctx.status = 200;
      ctx.type = 'application/javascript';
    }),
    probes: [HEAD],
  },
  { name: 'respond: when no middleware is present › should 404', build: () => new Koa() },
  {
    name: 'respond: when res has already been written to › should not cause an app error',
    build: koa((ctx) => {
      const res = ctx.res;
      ctx.status = 200;
      res.setHeader('Content-Type', 'text/html');
      res.write('Hello');
    }),
  },
  {
    name: 'respond: when res has already been written to › should send the right body',
    build: koa((ctx) => {
      const res = ctx.res;
      ctx.status = 200;
      res.setHeader('Content-Type', 'text/html');
      res.write('Hello');
      return new Promise<void>((resolve) => {
        setTimeout(() => {
          res.end('Goodbye');
          resolve();
        }, 0);
      });
    }),
  },
  { name: 'respond: when .body is missing › with status=400 › should respond with the associated status message', build: koa((ctx) => void (ctx.status = 400)) },
  { name: 'respond: when .body is missing › with status=204 › should respond without a body', build: koa((ctx) => void (ctx.status = 204)) },
  {
    name: 'respond: when .body is missing › with status=205 › should respond without a body',
    build: koa((ctx) => void (ctx.status = 205)),
    knownFraming: 'Koa removes Content-Length and Transfer-Encoding for a 205, so Node frames it by closing; the bridge gives Content-Length: 0 (same empty body)',
  },
  { name: 'respond: when .body is missing › with status=304 › should respond without a body', build: koa((ctx) => void (ctx.status = 304)) },
  {
    name: 'respond: when .body is missing › with custom statusMessage=ok › should respond with the custom status message',
    build: koa((ctx) => {
      ctx.status = 200;
      ctx.message = 'ok';
    }),
  },
  { name: 'respond: when .body is a null › should respond 204 by default', build: koa((ctx) => void (ctx.body = null)) },
  {
    name: 'respond: when .body is a null › should respond 204 with status=200',
    build: koa((ctx) => {
      ctx.status = 200;
      ctx.body = null;
    }),
  },
  {
    name: 'respond: when .body is a null › should respond 205 with status=205',
    build: koa((ctx) => {
      ctx.status = 205;
      ctx.body = null;
    }),
    knownFraming: 'Koa removes Content-Length and Transfer-Encoding for a 205, so Node frames it by closing; the bridge gives Content-Length: 0 (same empty body)',
  },
  {
    name: 'respond: when .body is a null › should respond 304 with status=304',
    build: koa((ctx) => {
      ctx.status = 304;
      ctx.body = null;
    }),
  },
  { name: 'respond: when .body is undefined › should respond 204 by default', build: koa((ctx) => void (ctx.body = undefined)) },
  { name: 'respond: when .body is a string › should respond', build: koa((ctx) => void (ctx.body = 'Hello')) },
  { name: 'respond: when .body is a Buffer › should respond', build: koa((ctx) => void (ctx.body = Buffer.from('Hello'))) },
  { name: 'respond: when .body is a Blob › should respond', build: koa((ctx) => void (ctx.body = new Blob(['Hello']))) },
  { name: 'respond: when .body is a Blob › should keep Blob headers', build: koa((ctx) => void (ctx.body = new Blob(['hello world']))), probes: [HEAD] },
  { name: 'respond: when .body is a ReadableStream › should respond', build: koa((ctx) => void (ctx.body = new ReadableStream())), probes: [HEAD] },
  { name: 'respond: when .body is a ReadableStream › should respond hello', build: koa((ctx) => void (ctx.body = new Blob(['hello']).stream())) },
  {
    name: 'respond: when .body is a Response › should keep Response headers',
    build: koa((ctx) => {
      ctx.body = new Response(null, { status: 201, statusText: 'OK', headers: { 'Content-Type': 'text/plain' } });
    }),
    knownFraming: 'an empty stream: the head is ended without a body, natively chunked, bridged Content-Length: 0',
    probes: [HEAD, GET],
  },
  {
    name: 'respond: when .body is a Response › should default to octet-stream',
    build: koa((ctx) => void (ctx.body = new Response(null, { status: 200, statusText: 'OK' }))),
    knownFraming: 'an empty stream: the head is ended without a body, natively chunked, bridged Content-Length: 0',
  },
  {
    name: 'respond: when .body is a Stream › should respond',
    build: koa((ctx) => {
      ctx.body = fs.createReadStream(PKG);
      ctx.set('Content-Type', 'application/json; charset=utf-8');
    }),
  },
  {
    name: 'respond: when .body is a Stream › should strip content-length when overwriting',
    build: koa((ctx) => {
      ctx.body = 'hello';
      ctx.body = fs.createReadStream(PKG);
      ctx.set('Content-Type', 'application/json; charset=utf-8');
    }),
  },
  // A stream whose length Koa declares (these two, and the Blob above): the gateway stops at the
  // Content-Length before Koa's pipeline has called res.end(); the bridge waits for that end instead
  // of taking the stop for a disconnect, so Koa logs nothing, as natively.
  {
    name: 'respond: when .body is a Stream › should keep content-length if not overwritten',
    build: koa((ctx) => {
      ctx.length = PKG_LENGTH;
      ctx.body = fs.createReadStream(PKG);
      ctx.set('Content-Type', 'application/json; charset=utf-8');
    }),
  },
  {
    name: 'respond: when .body is a Stream › should keep content-length if overwritten with the same stream',
    build: koa((ctx) => {
      ctx.length = PKG_LENGTH;
      const stream = fs.createReadStream(PKG);
      ctx.body = stream;
      ctx.body = stream;
      ctx.set('Content-Type', 'application/json; charset=utf-8');
    }),
  },
  // 'should handle errors' and 'should handle all intermediate stream body errors' (a stream of a
  // missing file): on Node 20 Koa's pipeline destroys the response before its 404 goes out, so the
  // native client gets no response at all; the bridge answers 500 (destroy before head: known).
  { name: 'respond: when .body is an Object › should respond with json', build: koa((ctx) => void (ctx.body = { hello: 'world' })) },
  {
    name: 'respond: when .body is an Object › and headers sent › should respond with json body and headers',
    build: koa((ctx) => {
      ctx.length = 17;
      ctx.type = 'json';
      ctx.set('foo', 'bar');
      ctx.res.flushHeaders();
      ctx.body = { hello: 'world' };
    }),
  },
  // 'with custom status=700' and 'with custom status without message' (701): left out, a divergence
  // by contract. Node sends any code 100-999; startResponse refuses codes past 599 (SPEC R1), so the
  // bridge answers 500.
  // 'app: should handle socket errors' (ctx.socket.emit('error')): left out, a divergence. Natively
  // Node's server answers 400 Bad Request and destroys the socket; the synthetic socket swallows the
  // error, so Koa's on-finished handler answers 500 through the bridge.
  { name: 'respond: when an error occurs › should emit "error" on the app', build: koa(() => { throw new Error('boom'); }) },
  {
    name: 'respond: when an error occurs › with an .expose property › should expose the message',
    build: koa(() => {
      throw Object.assign(new Error('sorry!'), { status: 403, expose: true });
    }),
  },
  {
    name: 'respond: when an error occurs › with a .status property › should respond with .status',
    build: koa(() => {
      throw Object.assign(new Error('s3 explodes'), { status: 403 });
    }),
  },
  {
    name: 'respond: when an error occurs › should be catchable',
    build: () => {
      const app = new Koa();
      app.use((ctx, next) =>
        next()
          .then(() => void (ctx.body = 'Hello'))
          .catch(() => void (ctx.body = 'Got error')),
      );
      app.use(() => {
        throw new Error('boom!');
      });
      return app;
    },
  },
  {
    name: 'respond: when status and body property › should 200',
    build: koa((ctx) => {
      ctx.status = 304;
      ctx.body = 'hello';
      ctx.status = 200;
    }),
  },
  {
    name: 'respond: when status and body property › should 204',
    build: koa((ctx) => {
      ctx.status = 200;
      ctx.body = 'hello';
      ctx.set('content-type', 'text/plain; charset=utf8');
      ctx.status = 204;
    }),
  },
  {
    name: 'respond: with explicit null body › should preserve given status',
    build: koa((ctx) => {
      ctx.body = null;
      ctx.status = 404;
    }),
  },
  {
    name: 'respond: with explicit null body › should respond with correct headers',
    build: koa((ctx) => {
      ctx.body = null;
      ctx.status = 401;
    }),
  },
  {
    name: 'respond: with explicit null body › should not overwrite the content-length',
    build: koa((ctx) => {
      ctx.body = null;
      ctx.length = 10;
      ctx.status = 404;
    }),
  },
];

// __tests__/application/response.test.js and the response details the upstream unit tests set up
// on a mock context (response/*.test.js), here through a real response.
const response: Array<Scenario<Koa>> = [
  {
    name: 'app.response: should not include status message in body for http2',
    build: koa((ctx) => {
      ctx.req.httpVersionMajor = 2;
      ctx.status = 404;
    }),
  },
  { name: 'app.response: should add Content-Length when Transfer-Encoding is not defined', build: koa((ctx) => void (ctx.body = 'hello world')) },
  {
    name: 'app.response: should not add Content-Length when Transfer-Encoding is defined',
    build: koa((ctx) => {
      ctx.set('Transfer-Encoding', 'chunked');
      ctx.body = 'hello world';
    }),
    knownFraming: "the listener's own Transfer-Encoding line is hop-by-hop: dropped, and the gateway's goes after the other headers",
  },
  {
    name: 'response/set: should set a field value, a header object, an array value and coerce numbers',
    build: koa((ctx) => {
      ctx.set('X-Custom-Case', 'bar');
      ctx.set({ foo: '1', bar: '2' });
      ctx.set('x-array', ['a', 'b']);
      ctx.set('x-number', 5 as unknown as string);
      ctx.body = 'set';
    }),
  },
  {
    name: 'response/append: should append multiple headers, and after set',
    build: koa((ctx) => {
      ctx.append('x-foo', 'bar1');
      ctx.append('x-foo', 'bar2');
      ctx.append('Set-Cookie', 'foo=bar');
      ctx.append('Set-Cookie', ['fizz=buzz', 'hi=again']);
      ctx.set('Link', '<http://localhost/>');
      ctx.append('Link', '<http://localhost:80/>');
      ctx.body = 'append';
    }),
  },
  {
    name: 'response/remove: should remove a field',
    build: koa((ctx) => {
      ctx.set('x-foo', 'bar');
      ctx.remove('x-foo');
      ctx.body = 'removed';
    }),
  },
  {
    name: 'response/header: should return the response header object / case kept on the wire',
    build: koa((ctx) => {
      ctx.set('X-Foo', 'bar');
      ctx.set('X-Number', '200');
      ctx.body = ctx.response.headers;
    }),
  },
  {
    name: 'response/status: when a status string › should throw (500) — and a valid code with the right reason',
    build: koa((ctx) => {
      ctx.status = 403;
      ctx.body = ctx.message;
    }),
  },
  {
    name: 'response/status: when 205/204 › should strip content related header fields after status set',
    build: koa((ctx) => {
      ctx.body = { foo: 'bar' };
      ctx.set('Content-Type', 'application/json; charset=utf-8');
      ctx.set('Content-Length', '15');
      ctx.set('Transfer-Encoding', 'chunked');
      ctx.status = 205;
    }),
    knownFraming: 'Koa removes Content-Length and Transfer-Encoding for a 205, so Node frames it by closing; the bridge gives Content-Length: 0 (same empty body)',
  },
  {
    name: 'response/message: should set response status message',
    build: koa((ctx) => {
      ctx.status = 200;
      ctx.message = 'ok';
      ctx.body = 'with a custom reason';
    }),
  },
  {
    name: 'response/redirect: should redirect to the given url (plain text)',
    build: koa((ctx) => ctx.redirect('http://google.com')),
  },
  {
    name: 'response/redirect: with "back" › should redirect to Referrer',
    build: koa((ctx) => ctx.redirect('back')),
    probes: [
      { name: 'Referrer', method: 'GET', target: '/', headers: [['Referrer', '/login']] },
      { name: 'no Referrer', method: 'GET', target: '/' },
    ],
  },
  {
    name: 'response/redirect: ctx.back() › should redirect to the Referrer of the same origin, else to the alt',
    build: koa((ctx) => ctx.back('/index.html')),
    probes: [
      { name: 'same origin', method: 'GET', target: '/', headers: [['Referrer', 'http://differential.test/login']] },
      { name: 'other origin', method: 'GET', target: '/', headers: [['Referrer', 'http://other.example/login']] },
    ],
  },
  {
    name: 'response/redirect: when html is accepted › should respond with html and escape the url',
    build: koa((ctx) => ctx.redirect('http://google.com/<script>')),
    probes: [{ method: 'GET', target: '/', headers: [['Accept', 'text/html']] }],
  },
  {
    name: 'response/redirect: when status is 301 › should not change the status code',
    build: koa((ctx) => {
      ctx.status = 301;
      ctx.redirect('http://google.com');
    }),
  },
  {
    name: 'response/redirect: when content-type was present › should overwrite content-type',
    build: koa((ctx) => {
      ctx.body = {};
      ctx.redirect('http://google.com');
    }),
  },
  {
    name: 'response/attachment: when given a filename › should set the filename param',
    build: koa((ctx) => {
      ctx.attachment('path/to/tobi.png');
      ctx.body = Buffer.from('png');
    }),
  },
  {
    name: 'response/attachment: when given a non-ascii filename › should set the encodeURI filename param',
    build: koa((ctx) => {
      ctx.attachment('path/to/include-no-ascii-char-中文名-ok.json');
      ctx.body = { foo: 'bar' };
    }),
  },
  {
    name: 'response/attachment: with options › should work with type fallback',
    build: koa((ctx) => {
      ctx.attachment('path/to/include-no-ascii-char-中文名-ok.json', { type: 'inline' });
      ctx.body = 'inline';
    }),
  },
  {
    name: 'response/type: should set the Content-Type (extension, mime, with charset, html)',
    build: () => {
      const app = new Koa();
      app.use((ctx) => {
        const kind = ctx.query.t as string;
        ctx.type = kind;
        ctx.body = 'typed';
      });
      return app;
    },
    probes: ['html', 'json', '.png', 'text/plain; charset=iso-8859-1', 'application/foo', 'foo'].map((t) => ({
      name: t,
      method: 'GET',
      target: `/?t=${encodeURIComponent(t)}`,
    })),
  },
  {
    name: 'response/etag: should set an etag (quoted, weak) and answer 304 when fresh',
    build: koa((ctx) => {
      ctx.etag = ctx.query.weak ? 'W/"123"' : '123';
      ctx.body = 'tagged';
      if (ctx.fresh) ctx.status = 304;
    }),
    probes: [
      { name: 'strong', method: 'GET', target: '/' },
      { name: 'weak', method: 'GET', target: '/?weak=1' },
      { name: 'If-None-Match matches', method: 'GET', target: '/', headers: [['If-None-Match', '"123"']] },
      { name: 'If-None-Match other', method: 'GET', target: '/', headers: [['If-None-Match', '"999"']] },
    ],
  },
  {
    name: 'response/lastModified: should set the header as a UTCString and answer 304 on If-Modified-Since',
    build: koa((ctx) => {
      ctx.lastModified = new Date(Date.UTC(2020, 0, 1));
      ctx.body = 'modified';
      if (ctx.fresh) ctx.status = 304;
    }),
    probes: [
      { name: 'plain', method: 'GET', target: '/' },
      { name: 'not modified', method: 'GET', target: '/', headers: [['If-Modified-Since', 'Wed, 01 Jan 2020 00:00:00 GMT']] },
    ],
  },
  {
    name: 'response/vary: should set/append the Vary field',
    build: koa((ctx) => {
      ctx.vary('Accept');
      ctx.vary('Accept-Encoding');
      ctx.vary('Accept');
      ctx.body = 'varied';
    }),
  },
  {
    name: 'response/body: when a string is given › should default to text, html when it looks like html',
    build: koa((ctx) => void (ctx.body = ctx.query.html ? '<em>hey</em>' : 'Tobi')),
    probes: [GET, { name: 'html', method: 'GET', target: '/?html=1' }],
  },
  {
    name: 'response/body: when a string is given › should not override the content type set before',
    build: koa((ctx) => {
      ctx.type = 'png';
      ctx.body = Buffer.from('something');
      ctx.body = 'something';
    }),
  },
  {
    name: 'response/body: when an object is given › should default to json (and a Buffer to octet-stream)',
    build: koa((ctx) => void (ctx.body = ctx.query.buffer ? Buffer.from('hey') : { foo: 'bar', n: [1, 'é'] })),
    probes: [GET, { name: 'Buffer', method: 'GET', target: '/?buffer=1' }],
  },
  {
    name: 'response/body: a stream (Readable.from) with a UTF-8 string body',
    build: koa((ctx) => {
      ctx.type = 'text';
      ctx.body = Readable.from(['café ', '☕ ', 'end']);
    }),
  },
  {
    name: 'response/body: a stream that waits between chunks (chunked, backpressure through pipeline)',
    build: koa((ctx) => {
      const stream = new PassThrough();
      ctx.type = 'application/octet-stream';
      ctx.body = stream;
      void (async () => {
        for (let i = 0; i < 40; i++) {
          if (!stream.write(Buffer.alloc(8 * 1024, i))) await once(stream, 'drain');
          if (i % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
        }
        stream.end();
      })();
    }),
  },
];

// __tests__/context/*.test.js
const context: Array<Scenario<Koa>> = [
  {
    name: 'ctx.onerror: should respond',
    build: koa((ctx) => {
      ctx.body = 'something else';
      ctx.throw(418, 'boom');
    }),
  },
  {
    name: 'ctx.onerror: should unset all headers',
    build: koa((ctx) => {
      ctx.set('Vary', 'Accept-Encoding');
      ctx.set('X-CSRF-Token', 'asdf');
      ctx.body = 'response';
      ctx.throw(418, 'boom');
    }),
  },
  {
    name: 'ctx.onerror: should set headers specified in the error',
    build: koa((ctx) => {
      ctx.set('Vary', 'Accept-Encoding');
      ctx.set('X-CSRF-Token', 'asdf');
      ctx.body = 'response';
      throw Object.assign(new Error('boom'), {
        status: 418,
        expose: true,
        headers: {
          'Content-Length': ['1', '2'],
          'cOnTeNt-TyPe': ['text/plain', 'application/json'],
          'Set-Cookie': ['first=1', 'second=2'],
          'X-New-Header': 'Value',
        },
      });
    }),
  },
  {
    name: 'ctx.onerror: should ignore error after headerSent',
    build: koa(
      async (ctx) => {
        ctx.status = 200;
        ctx.set('X-Foo', 'Bar');
        ctx.flushHeaders();
        await Promise.reject(new Error('mock error'));
        ctx.body = 'response';
      },
      undefined,
      (app) => app.on('error', (_err, { res }) => res.end()),
    ),
    knownFraming: 'flushHeaders() then end() with no body: natively chunked, bridged Content-Length: 0',
  },
  {
    name: 'ctx.onerror: should set status specified in the error using statusCode',
    build: koa((ctx) => {
      ctx.body = 'something else';
      throw Object.assign(new Error('Not found'), { statusCode: 404 });
    }),
  },
  {
    name: 'ctx.onerror: when invalid err.statusCode › not number › should respond 500',
    build: koa((ctx) => {
      ctx.body = 'something else';
      throw Object.assign(new Error('some error'), { statusCode: 'notnumber' });
    }),
  },
  {
    name: 'ctx.onerror: when invalid err.status › not http status code › should respond 500',
    build: koa((ctx) => {
      ctx.body = 'something else';
      throw Object.assign(new Error('some error'), { status: 9999 });
    }),
  },
  {
    name: 'ctx.onerror: when error from another scope thrown › should handle it like a normal error',
    build: koa(() => {
      const ExternError = vm.runInNewContext('Error') as ErrorConstructor;
      throw Object.assign(new ExternError('boom'), { status: 418, expose: true });
    }),
  },
  {
    name: 'ctx.onerror: when non-error thrown › should respond with non-error thrown message',
    build: koa(() => {
      throw 'string error'; // eslint-disable-line no-throw-literal
    }),
  },
  {
    name: 'ctx.onerror: when non-error thrown › should stringify error if it is an object',
    build: koa(async () => {
      throw { key: 'value' }; // eslint-disable-line no-throw-literal
    }),
  },
  {
    name: 'ctx.throw: (status, msg) / (msg, status) / with props / 4xx exposed, 5xx not',
    build: koa((ctx) => {
      const kind = ctx.query.k;
      if (kind === 'status-msg') ctx.throw(400, 'name required');
      if (kind === 'props') ctx.throw(401, 'who', { headers: { 'WWW-Authenticate': 'Basic' } } as never);
      if (kind === '5xx') ctx.throw(502, 'upstream down');
      ctx.throw(418);
    }),
    probes: ['status-msg', 'props', '5xx', 'bare'].map((k) => ({ name: k, method: 'GET', target: `/?k=${k}` })),
  },
  {
    name: 'ctx.assert: should throw an error (with status and headers)',
    build: koa((ctx) => {
      (ctx as { assert: (...args: unknown[]) => void }).assert(ctx.get('Authorization'), 401, 'authentication required', { headers: { 'WWW-Authenticate': 'Bearer' } } as never);
      ctx.body = 'authorised';
    }),
    probes: [GET, { name: 'authorised', method: 'GET', target: '/', headers: [['Authorization', 'Bearer x']] }],
  },
  {
    name: 'ctx.cookies: ctx.cookies.set() › should set an unsigned and a signed cookie',
    build: koa(
      (ctx) => {
        ctx.cookies.set('name', 'jon', { signed: ctx.query.signed === '1' });
        ctx.cookies.set('other', 'x', { httpOnly: false, path: '/a', expires: new Date(Date.UTC(2030, 0, 1)) });
        ctx.body = { seen: ctx.cookies.get('name', { signed: ctx.query.signed === '1' }) ?? null };
      },
      { keys: ['a', 'b'] },
    ),
    probes: [
      { name: 'unsigned', method: 'GET', target: '/' },
      { name: 'signed', method: 'GET', target: '/?signed=1' },
      {
        name: 'signed, cookie sent back',
        method: 'GET',
        target: '/?signed=1',
        headers: [['Cookie', 'name=jon; name.sig=yOMYyPpAh4Bzc-iOgmtH1MMGDYg']],
      },
    ],
  },
  {
    name: 'ctx.cookies: with secure › should get secure from request (Cannot send secure cookie over unencrypted connection)',
    build: koa(
      (ctx) => {
        ctx.cookies.set('name', 'jon', { secure: true });
        ctx.body = 'secure';
      },
      undefined,
      (app) => void (app.proxy = false),
    ),
  },
  {
    name: 'ctx.cookies: with secure › app.proxy and X-Forwarded-Proto: https allow it',
    build: koa(
      (ctx) => {
        ctx.cookies.set('name', 'jon', { secure: true });
        ctx.body = 'secure';
      },
      { proxy: true },
    ),
    probes: [{ method: 'GET', target: '/', headers: [['X-Forwarded-Proto', 'https']] }],
  },
  {
    name: 'ctx.state: should provide a ctx.state namespace',
    build: koa((ctx) => void (ctx.body = { state: ctx.state })),
  },
  {
    name: 'currentContext: should get currentContext (asyncLocalStorage), after awaits and timers',
    build: () => {
      const app = new Koa({ asyncLocalStorage: true } as never) as Koa;
      app.use(async (ctx) => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        ctx.body = { same: (app as unknown as { currentContext: unknown }).currentContext === ctx };
      });
      return app;
    },
  },
  {
    name: 'app.context / app.request / app.response: should merge properties',
    build: () => {
      const app = new Koa();
      (app.context as { msg?: string }).msg = 'from context';
      (app.request as unknown as { message: string }).message = 'from request';
      (app.response as unknown as { note: string }).note = 'from response';
      app.use((ctx) => {
        ctx.body = {
          msg: (ctx as unknown as { msg: string }).msg,
          request: (ctx.request as unknown as { message: string }).message,
          response: (ctx.response as unknown as { note: string }).note,
        };
      });
      return app;
    },
  },
  {
    name: 'response/socket and response/writable: the socket is the request’s, and writable',
    build: koa((ctx) => {
      ctx.body = {
        same: ctx.response.socket === ctx.req.socket,
        writable: ctx.writable,
        headerSent: ctx.headerSent,
        socketWritable: ctx.socket.writable,
      };
    }),
  },
  {
    // The bridge closes its synthetic connection before it aborts the request, so the request's
    // 'aborted' error never reaches the socket, where Koa's on-finished would log it as the app's.
    name: 'response/writable: when the socket closed before the response was sent › should not be writable, and nothing logged',
    build: () => {
      const app = new Koa();
      const seen: string[] = [];
      app.use(async (ctx, next) => {
        if (ctx.path === '/__seen') {
          ctx.body = seen;
          return;
        }
        await next();
      });
      app.use(async (ctx) => {
        await new Promise((resolve) => setTimeout(resolve, 60));
        seen.push(`writable ${ctx.writable}, aborted ${ctx.req.aborted}`);
        ctx.body = 'too late';
      });
      return app;
    },
    probes: [{ method: 'GET', target: '/', disconnectAfterMs: 20 }],
    followUp: { method: 'GET', target: '/__seen' },
  },
  {
    name: 'respond: when .body is a Stream › an endless stream is destroyed when the client goes away',
    build: () => {
      const app = new Koa();
      // Quiet: what Koa logs here depends on TCP natively (a reset reads as "read ECONNRESET"); through
      // the bridge it logs "Error: aborted" (see the note on 'response/writable' above).
      app.silent = true;
      const seen: string[] = [];
      app.use(async (ctx, next) => {
        if (ctx.path === '/__seen') {
          ctx.body = seen;
          return;
        }
        await next();
      });
      app.use((ctx) => {
        const stream = new Readable({ read() {} });
        const timer = setInterval(() => stream.push('tick\n'), 5);
        stream.on('close', () => {
          clearInterval(timer);
          seen.push(`stream close, writable ${ctx.writable}`);
        });
        ctx.type = 'text/event-stream';
        ctx.body = stream;
      });
      return app;
    },
    probes: [{ method: 'GET', target: '/', disconnectAfterMs: 30 }],
    followUp: { method: 'GET', target: '/__seen' },
  },
];

// __tests__/request/*.test.js: what the request getters read off req, echoed whole.
function requestEcho(ctx: Koa.Context): void {
  const r = ctx.request;
  ctx.body = {
    method: r.method,
    url: r.url,
    originalUrl: r.originalUrl,
    href: r.href,
    origin: r.origin,
    path: r.path,
    querystring: r.querystring,
    search: r.search,
    query: r.query,
    host: r.host,
    hostname: r.hostname,
    URL: String(r.URL),
    protocol: r.protocol,
    secure: r.secure,
    ip: r.ip,
    ips: r.ips,
    subdomains: r.subdomains,
    fresh: r.fresh,
    stale: r.stale,
    idempotent: r.idempotent,
    accepts: r.accepts('json', 'html', 'text'),
    acceptsAll: r.accepts(),
    acceptsCharsets: r.acceptsCharsets(),
    acceptsEncodings: r.acceptsEncodings(),
    acceptsLanguages: r.acceptsLanguages(),
    charset: r.charset,
    length: r.length ?? null,
    type: r.type,
    is: r.is('json', 'urlencoded') || null,
    hasBody: ctx.req.headers['transfer-encoding'] !== undefined || ctx.req.headers['content-length'] !== undefined,
    header: r.header,
    httpVersion: ctx.req.httpVersion,
    httpVersionMajor: ctx.req.httpVersionMajor,
    httpVersionMinor: ctx.req.httpVersionMinor,
    rawHeaders: ctx.req.rawHeaders,
    socketEncrypted: (ctx.req.socket as { encrypted?: boolean }).encrypted ?? null,
    remoteFamily: ctx.req.socket.remoteFamily ?? null,
    remoteAddress: ctx.req.socket.remoteAddress ?? null,

    get: { referer: r.get('Referrer'), ct: r.get('Content-Type') },
  };
}

const requestProbes: UpstreamProbe[] = [
  { name: 'plain', method: 'GET', target: '/users/1?page=2&tags=a&tags=b' },
  {
    name: 'request/accepts, charset, type, is, length',
    method: 'POST',
    target: '/submit?x=1',
    headers: [
      ['Accept', 'application/*;q=0.2, image/jpeg;q=0.8, text/html, text/plain'],
      ['Accept-Charset', 'utf-8, iso-8859-1;q=0.2, utf-7;q=0.5'],
      ['Accept-Encoding', 'gzip, compress;q=0.2'],
      ['Accept-Language', 'en;q=0.8, es, pt'],
      ['Content-Type', 'application/json; charset=ISO-8859-1'],
      ['Referer', 'http://example.com/from'],
    ],
    body: '{"a":1}',
  },
  {
    name: 'request/length of a chunked body',
    method: 'POST',
    target: '/',
    headers: [
      ['Content-Type', 'application/x-www-form-urlencoded'],
      ['Transfer-Encoding', 'chunked'],
    ],
    body: '3\r\na=1\r\n0\r\n\r\n',
  },
  { name: 'request/host with a port', method: 'GET', target: '/', headers: [] },
  { name: 'request/fresh with If-None-Match', method: 'GET', target: '/', headers: [['If-None-Match', '"x"']] },
  { name: 'request/idempotent: PUT', method: 'PUT', target: '/put' },
  { name: 'request/idempotent: PATCH is not', method: 'PATCH', target: '/patch' },
  { name: 'request/href: absolute-form target', method: 'GET', target: 'http://differential.test/abs?q=1' },
  { name: 'request/path: escaped characters', method: 'GET', target: '/caf%C3%A9/%20space?q=%2F' },
  { name: 'request/querystring: bare ?', method: 'GET', target: '/?' },
  {
    name: 'request/ip, ips: X-Forwarded-For without app.proxy is ignored',
    method: 'GET',
    target: '/',
    headers: [
      ['X-Forwarded-For', '1.2.3.4, 5.6.7.8'],
      ['X-Forwarded-Proto', 'https'],
      ['X-Forwarded-Host', 'proxied.example'],
    ],
  },
  { name: 'request/host: HTTP/1.0 without Host', method: 'GET', target: '/', version: '1.0', noHost: true },
  { name: 'request/host: HTTP/1.0 with Host', method: 'GET', target: '/', version: '1.0' },
  {
    name: 'request/headers: repeated lines and case',
    method: 'GET',
    target: '/',
    headers: [
      ['X-Multi', 'one'],
      ['x-multi', 'two'],
      ['Cookie', 'a=1'],
      ['Cookie', 'b=2'],
      ['Set-Cookie', 'not=really'],
      ['Authorization', 'first'],
      ['Authorization', 'second'],
    ],
  },
];

const proxyProbes: UpstreamProbe[] = [
  {
    name: 'request/ips: with app.proxy › should return the X-Forwarded-For list',
    method: 'GET',
    target: '/',
    headers: [['X-Forwarded-For', '127.0.0.1,127.0.0.2']],
  },
  { name: 'req.ip with port in X-Forwarded-For › IPv4 with port', method: 'GET', target: '/', headers: [['X-Forwarded-For', '1.2.3.4:8080, 5.6.7.8']] },
  { name: 'req.ip with port in X-Forwarded-For › IPv6 with port', method: 'GET', target: '/', headers: [['X-Forwarded-For', '[::1]:8080, 127.0.0.1']] },
  {
    name: 'request/protocol, host: X-Forwarded-Proto and X-Forwarded-Host trusted',
    method: 'GET',
    target: '/p?q=1',
    headers: [
      ['X-Forwarded-Proto', 'https, http'],
      ['X-Forwarded-Host', 'bar.com, baz.com'],
    ],
  },
  { name: 'request/subdomains: with subdomainOffset', method: 'GET', target: '/', headers: [['X-Forwarded-Host', 'tobi.ferrets.example.com']] },
  {
    name: 'request/hostname: IPv6 Host',
    method: 'GET',
    target: '/',
    headers: [['X-Forwarded-Host', '[::1]:3000']],
  },
];

const request: Array<Scenario<Koa>> = [
  { name: 'request getters (ip, protocol, host, href, query, accepts, ...)', build: koa(requestEcho), probes: requestProbes },
  {
    name: 'request getters with app.proxy, maxIpsCount and subdomainOffset',
    build: koa(requestEcho, { proxy: true, maxIpsCount: 1, subdomainOffset: 3 }),
    probes: proxyProbes,
  },
  {
    name: 'request/ip: with app.proxyIpHeader',
    build: koa(requestEcho, { proxy: true, proxyIpHeader: 'X-Client-IP' }),
    probes: [{ method: 'GET', target: '/', headers: [['X-Client-IP', '9.9.9.9'], ['X-Forwarded-For', '1.1.1.1']] }],
  },
  {
    name: 'request body read by the app (ctx.req stream), Content-Length and chunked',
    build: koa(async (ctx) => {
      const chunks: Buffer[] = [];
      for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
      ctx.body = { length: ctx.request.length ?? null, got: Buffer.concat(chunks).toString('latin1'), complete: ctx.req.complete };
    }),
    probes: [
      { name: 'Content-Length', method: 'POST', target: '/', headers: [['Content-Type', 'text/plain']], body: 'hello body' },
      {
        name: 'chunked',
        method: 'POST',
        target: '/',
        headers: [['Transfer-Encoding', 'chunked']],
        body: '5\r\nhello\r\n5\r\n body\r\n0\r\n\r\n',
      },
      { name: 'empty, Content-Length: 0', method: 'POST', target: '/', headers: [['Content-Length', '0']] },
    ],
  },
];

// The raw Node response under Koa (ctx.respond = false): what an upstream test does with res by hand.
const rawResponse: Array<Scenario<Koa>> = [
  {
    name: 'respond: ctx.respond = false › res.writeHead(status, reason, headers) by hand',
    build: koa((ctx) => {
      ctx.respond = false;
      ctx.res.writeHead(202, 'Taken In', { 'X-By-Hand': 'yes', 'Content-Type': 'text/plain' });
      ctx.res.end('accepted');
    }),
  },
  {
    name: 'respond: ctx.respond = false › res.writeHead with a flat raw header array (repeats kept)',
    build: koa((ctx) => {
      ctx.respond = false;
      ctx.res.writeHead(200, ['X-Rep', 'a', 'X-Rep', 'b', 'Set-Cookie', 'c=1', 'Set-Cookie', 'd=2', 'Content-Length', '2']);
      ctx.res.end('ok');
    }),
  },
  {
    name: 'respond: ctx.respond = false › res.setHeader with array values, then write and end',
    build: koa((ctx) => {
      ctx.respond = false;
      ctx.res.statusCode = 200;
      ctx.res.statusMessage = 'Fine Thanks';
      ctx.res.setHeader('X-List', ['one', 'two']);
      ctx.res.setHeader('x-lower', 'v');
      ctx.res.setHeader('X-Tab', 'a\tb');
      ctx.res.write('aGVs', 'base64');
      ctx.res.write(Buffer.from('lo '));
      ctx.res.end('776f726c64', 'hex');
    }),
  },
  {
    name: 'respond: ctx.respond = false › res.end(callback) and res.write(chunk, callback)',
    build: koa((ctx) => {
      ctx.respond = false;
      ctx.res.setHeader('Content-Type', 'text/plain');
      ctx.res.write('first ', () => {
        ctx.res.end(() => {});
      });
    }),
  },
  {
    name: 'respond: ctx.respond = false › an explicit Content-Length with streamed writes',
    build: koa((ctx) => {
      ctx.respond = false;
      ctx.res.setHeader('Content-Length', '10');
      ctx.res.write('01234');
      setTimeout(() => ctx.res.end('56789'), 2);
    }),
  },
  {
    name: 'respond: ctx.respond = false › HEAD answered by hand with a Content-Length',
    build: koa((ctx) => {
      ctx.respond = false;
      ctx.res.writeHead(200, { 'Content-Length': '1234', 'Content-Type': 'text/plain' });
      ctx.res.end();
    }),
    probes: [HEAD],
  },
  {
    name: 'respond: ctx.respond = false › HEAD answered by hand with a body (Node drops it)',
    build: koa((ctx) => {
      ctx.respond = false;
      ctx.res.setHeader('Content-Type', 'text/plain');
      ctx.res.end('not sent');
    }),
    probes: [HEAD],
  },
  {
    name: 'respond: ctx.respond = false › 304 answered by hand with a body (Node drops it)',
    build: koa((ctx) => {
      ctx.respond = false;
      ctx.res.statusCode = 304;
      ctx.res.setHeader('ETag', '"e"');
      ctx.res.end('not sent');
    }),
  },
  {
    name: 'respond: ctx.respond = false › res.writeHead with headers merged over setHeader',
    build: koa((ctx) => {
      ctx.respond = false;
      ctx.res.setHeader('X-Before', 'kept');
      ctx.res.setHeader('X-Both', 'from setHeader');
      ctx.res.writeHead(201, { 'X-Both': 'from writeHead', 'Content-Type': 'text/plain' });
      ctx.res.end('created');
    }),
  },
  {
    name: 'respond: an HTTP/1.0 client gets a stream as a close-delimited body',
    build: koa((ctx) => {
      ctx.type = 'text';
      ctx.body = Readable.from(['a', 'b', 'c']);
    }),
    probes: [{ method: 'GET', target: '/', version: '1.0' }],
  },
  {
    name: 'respond: an HTTP/1.0 client gets a string with its Content-Length',
    build: koa((ctx) => void (ctx.body = 'one-oh')),
    probes: [{ method: 'GET', target: '/', version: '1.0' }],
  },
];

describeUpstream('Koa 3 upstream suite: app.listen() against serve(passThrough(fromKoa(app)))', { native: koaNative, bridged: bridgedByServe }, [
  ...respond,
  ...response,
  ...context,
  ...request,
  ...rawResponse,
]);

// The same fromKoa(app) hosted by each framework at its root, against the app served natively. A
// handful of telling scenarios: HEAD of a stream, 204/304 stripping, Koa's own error, a by-hand head,
// cookies, a stream body.
const hosted = {
  'express: app.use(toExpress(fromKoa(koa)))': async (app: Koa) => {
    const host = express();
    // Express's own header, not the guest's.
    host.disable('x-powered-by');
    host.use(toExpress(fromKoa(app)));
    return listen(host);
  },
  'fastify: register(toFastify(fromKoa(koa)))': async (app: Koa) => {
    const host = Fastify({ forceCloseConnections: true });
    await host.register(toFastify(fromKoa(app)));
    await host.listen({ port: 0, host: '127.0.0.1' });
    return { port: (host.server.address() as AddressInfo).port, close: () => host.close() };
  },
  'koa: use(toKoa(fromKoa(koa)))': async (app: Koa) => {
    const host = new Koa();
    host.use(toKoa(fromKoa(app)));
    return koaNative(host);
  },
};

const pick = (names: string[]): Array<Scenario<Koa>> =>
  names.map((name) => {
    const found = [...respond, ...response, ...context, ...rawResponse].find((s) => s.name === name);
    if (found === undefined) throw new Error(`no scenario ${name}`);
    return found;
  });

describeUpstream(
  'Koa 3 upstream scenarios: native Koa against fromKoa(koa) hosted by Express, Fastify and Koa',
  { native: koaNative, bridged: hosted, hostSpelling: [
      'fastify: register(toFastify(fromKoa(koa)))',
    ], },
  [
  ...pick([
    'respond: when HEAD is used › should keep json headers',
    'respond: when HEAD is used › should keep stream header if set manually',
    'respond: when .body is missing › with status=400 › should respond with the associated status message',
    'respond: when .body is missing › with status=304 › should respond without a body',
    'respond: when .body is a null › should respond 204 by default',
    'respond: when .body is a Stream › should respond',
    'respond: when an error occurs › should emit "error" on the app',
    'respond: when .body is missing › with custom statusMessage=ok › should respond with the custom status message',
    'ctx.onerror: should set headers specified in the error',
    'response/append: should append multiple headers, and after set',
    'respond: ctx.respond = false › res.writeHead(status, reason, headers) by hand',
  ]),
  { name: 'request getters through a host (ip, protocol, host, href, query, accepts, ...)', build: koa(requestEcho), probes: requestProbes.slice(0, 3) },
]);

// Over TLS: https.createServer(app.callback()) against serve(passThrough(fromKoa(app)), { tls }). What
// Koa reads off the socket (encrypted) decides protocol, secure, origin, href and secure cookies.
const CERT = selfSignedCertificate();
const quiet = { write() {}, writelines() {}, flush() {} };

describeUpstream(
  'Koa 3 upstream scenarios over TLS: https.createServer(app.callback()) against serve(passThrough(fromKoa(app)), { tls })',
  {
    native: async (app: Koa): Promise<Side> => {
      const server = https.createServer(CERT, app.callback());
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      return { ...listening(server), tls: true };
    },
    bridged: {
      'serve(passThrough(fromKoa(app)), { tls })': async (app: Koa): Promise<Side> => {
        const server = await serve(throughMiddleware(fromKoa(app)), { port: 0, host: '127.0.0.1', handleSignals: false, errors: quiet, tls: CERT });
        return { ...listening(server), tls: true };
      },
    },
  },
  [
    { name: 'request/protocol, secure, origin, href: when encrypted › should return "https"', build: koa(requestEcho), probes: requestProbes.slice(0, 1) },
    {
      name: 'ctx.cookies: with secure › should send a secure cookie over an encrypted connection',
      build: koa(
        (ctx) => {
          ctx.cookies.set('name', 'jon', { secure: true, signed: true });
          ctx.body = 'secure';
        },
        { keys: ['k'] },
      ),
    },
    { name: 'response/redirect: when html is accepted, over https', build: koa((ctx) => ctx.redirect('/x')), probes: [{ method: 'GET', target: '/', headers: [['Accept', 'text/html']] }] },
  ],
);
