// The conformance matrix's second axis (issue 4): every host (our server, Express, Fastify, Koa) ×
// every guest (a native node-wsgi app, an Express app, a Koa app, a Fastify instance), the guest
// mounted under '/mnt'. One table of cases, each stated in terms of what a client observes, runs in
// every one of the 16 cells. A case that needs a piece only some hosts have says so with `when`.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { App } from '@node-wsgi/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeClients, parseHead, rawRequest, RawSocket, request, within, type HttpResult } from '../conformance/client.js';
import { HOST_NEXT, HOSTS, type Host, type HostSetup, type Started } from '../conformance/hosts.js';
import {
  GUEST_HEADER,
  GUESTS,
  JSON_DOC,
  Probe,
  sha256,
  STREAM_LAST,
  STREAM_PART,
  STREAM_PARTS,
  VIEW_TARGET,
  type Guest,
  type Observed,
  type View,
} from './guests.js';

const HOST_LABELS: Record<Host['name'], string> = { node: 'our server', express: 'Express', fastify: 'Fastify', koa: 'Koa' };

/** Every byte value, 257 times over (65,792 bytes): past the bridge's 16 KiB high-water mark. */
const ALL_BYTES = Buffer.concat(Array.from({ length: 257 }, () => Buffer.from(Array.from({ length: 256 }, (_, i) => i))));

const dir = mkdtempSync(path.join(tmpdir(), 'node-wsgi-matrix-'));
const FILE = path.join(dir, 'report.bin');
const FILE_BYTES = Buffer.concat([ALL_BYTES, ALL_BYTES, ALL_BYTES.subarray(0, 1234)]);
writeFileSync(FILE, FILE_BYTES);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Cell {
  host: Host;
  guest: Guest;
  probe: Probe;
  app: App;
  server: Started;
  url(target: string): string;
  /** The same guest on another instance of the same host, set up differently; closed with the cell. */
  startWith(setup: HostSetup): Promise<Started>;
}

interface Case {
  it: string;
  when?: (cell: { host: Host; guest: Guest }) => boolean;
  run(cell: Cell): Promise<void>;
}

/** Body parsers (named as in hosts.ts) a host runs in front of the guest; 'drain' keeps nothing, so it has no place here. */
const HOST_PARSERS: Partial<Record<Host['name'], string[]>> = {
  express: ['json', 'raw', 'text', 'urlencoded'],
  koa: ['koa-bodyparser', '@koa/bodyparser'],
};

let requestIds = 0;
const nextId = (): string => String(++requestIds);

// --- a client that reads a response as it streams ---

const streamSockets = new Set<net.Socket>();

interface Streaming {
  response: http.IncomingMessage;
  /** Resolves once `bytes` body bytes have arrived; rejects if the response ends or fails first. */
  until(bytes: number): Promise<void>;
  /** The whole body, once the response ended. */
  ended: Promise<Buffer>;
}

function openStream(url: string): Promise<Streaming> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (response) => {
      const chunks: Buffer[] = [];
      let received = 0;
      let finished: Error | null = null;
      let wake: () => void = () => {};
      response.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        received += chunk.byteLength;
        wake();
      });
      const ended = new Promise<Buffer>((done, fail) => {
        response.on('end', () => {
          finished = new Error(`the response ended after ${received} bytes`);
          wake();
          done(Buffer.concat(chunks));
        });
        response.on('error', (err) => {
          finished = err;
          wake();
          fail(err);
        });
      });
      ended.catch(() => {});
      resolve({
        response,
        ended,
        async until(bytes) {
          while (received < bytes) {
            if (finished !== null) throw finished;
            await new Promise<void>((done) => (wake = done));
          }
        },
      });
    });
    req.on('socket', (socket) => {
      streamSockets.add(socket);
      socket.once('close', () => streamSockets.delete(socket));
    });
    req.on('error', reject);
  });
}

// --- expectations ---

function expectObserved(response: HttpResult, expected: Observed, guest: Guest): void {
  expect(response.status).toBe(expected.status);
  expect(response.header(GUEST_HEADER), 'answered by the guest itself').toBe(guest.name);
  expect(response.header('content-type')).toMatch(expected.contentType);
  if (expected.json !== undefined) expect(JSON.parse(response.body.toString('utf8'))).toEqual(expected.json);
  if (expected.contains !== undefined) expect(response.body.toString('utf8')).toContain(expected.contains);
}

const cookieNames = (response: HttpResult): string[] => response.lines('set-cookie').map((line) => line.split('=')[0]!);

// --- the table ---

const cases: Case[] = [
  {
    // @fastify/express replaces res.send with Fastify's reply.send, which drops both.
    it: "conditional GET: Express's own ETag comes through, and If-None-Match with it gets Express's 304 with no body",
    when: ({ guest }) => guest.name === 'express',
    async run(cell) {
      const first = await request(cell.url('/mnt/json'));
      expect(first.status).toBe(200);
      const etag = first.header('etag');
      expect(etag).toMatch(/^W\/"/);
      const again = await request(cell.url('/mnt/json'), { headers: { 'If-None-Match': etag! } });
      expect(again.status).toBe(304);
      expect(again.body.byteLength).toBe(0);
      expect(again.header('etag')).toBe(etag);
    },
  },
  {
    it: "GET /mnt and /mnt/ both reach the guest's own '/' route",
    async run(cell) {
      for (const target of ['/mnt', '/mnt/']) {
        const response = await request(cell.url(target));
        expect(response.status, target).toBe(200);
        expect(JSON.parse(response.body.toString()), target).toEqual({ root: true, guest: cell.guest.name });
      }
    },
  },
  {
    it: "the guest sees the method, decoded path, raw and parsed query, a repeated header, the peer, the scheme and every body byte as the client sent them",
    async run(cell) {
      const body = ALL_BYTES.subarray(0, 256);
      // The target has an escaped '/', which framework hosts refuse by default (strictPaths).
      const server = await cell.startWith({ strictPaths: false });
      const response = await request(server.url + VIEW_TARGET, {
        method: 'PUT',
        headers: { 'X-Repeat': ['one', 'two'], 'content-type': 'application/octet-stream', 'content-length': String(body.length) },
        body,
      });
      expect(response.status).toBe(200);
      const seen = JSON.parse(response.body.toString('utf8')) as View;
      expect(seen).toEqual({
        guest: cell.guest.name,
        method: 'PUT',
        path: '/view/café/a/b',
        query: 'x=1+2&y=%2F',
        x: '1 2',
        repeat: 'one, two',
        host: `127.0.0.1:${server.port}`,
        ip: '127.0.0.1',
        protocol: 'http',
        bodyLength: 256,
        bodySha256: sha256(body),
        ...cell.guest.viewExtras,
      });
    },
  },
  {
    it: 'JSON: the body parses to what the guest sent, as application/json',
    async run(cell) {
      const response = await request(cell.url('/mnt/json'));
      expect(response.status).toBe(200);
      expect(response.header('content-type')).toMatch(/^application\/json/);
      expect(JSON.parse(response.body.toString('utf8'))).toEqual(JSON_DOC);
    },
  },
  {
    it: "cookies: the guest's two cookies arrive as two Set-Cookie lines, and a cookie the host set first makes a third",
    async run(cell) {
      const response = await request(cell.url('/mnt/cookies'));
      expect(response.status).toBe(200);
      expect(cookieNames(response)).toEqual(['a', 'b']);
      expect(response.body.toString()).toBe('cookies set');
      const withHostHeaders = await cell.startWith({ hostHeaders: true });
      const both = await request(withHostHeaders.url + '/mnt/cookies');
      expect(both.status).toBe(200);
      expect(cookieNames(both).sort()).toEqual(['a', 'b', 'host']);
    },
  },
  {
    // The Location is what the guest wrote, relative to its own root: a guest that writes '/elsewhere'
    // does not know it is mounted, and no gateway rewrites a Location (SPEC §4 B8).
    it: "redirect: 302 Found with the guest's Location '/elsewhere', not rewritten under the mount",
    async run(cell) {
      const response = await request(cell.url('/mnt/redirect'));
      expect(response.status).toBe(302);
      expect(response.header('location')).toBe('/elsewhere');
    },
  },
  {
    it: '204: the head, then nothing: no body byte, no Content-Length, no chunked framing',
    async run(cell) {
      const client = await RawSocket.connect(cell.server.port);
      client.write(rawRequest('GET', '/mnt/empty', ['Connection: close']));
      await client.waitForClose();
      const head = parseHead(client.data);
      expect(head).not.toBeNull();
      expect(head!.status).toBe(204);
      expect(client.data.length - head!.bodyStart).toBe(0);
      expect(head!.header('content-length')).toBeUndefined();
      expect(head!.header('transfer-encoding')).toBeUndefined();
    },
  },
  {
    it: "404: an unknown path gets the guest's own 404, not the host's",
    async run(cell) {
      expectObserved(await request(cell.url('/mnt/missing')), cell.guest.notFound, cell.guest);
    },
  },
  {
    it: "404 with { fallthrough: true }: the guest's 404 is dropped unsent and the host's next handler answers; the guest's routes still answer",
    when: ({ host }) => host.fallthrough,
    async run(cell) {
      const server = await cell.startWith({ fallthrough: true });
      const missing = await request(server.url + '/mnt/missing');
      expect(missing.status).toBe(200);
      expect(missing.body.toString()).toBe(HOST_NEXT);
      const json = await request(server.url + '/mnt/json');
      expect(JSON.parse(json.body.toString('utf8'))).toEqual(JSON_DOC);
    },
  },
  {
    it: "error: a route that throws is answered 500 by the guest's own error handler (the native guest's by its host, its gateway)",
    async run(cell) {
      const response = await request(cell.url('/mnt/error'));
      const expected = cell.guest.error;
      if ('fromHost' in expected) {
        expect(response.status).toBe(500);
        expect(response.header(GUEST_HEADER), 'answered by the host').toBeUndefined();
      } else expectObserved(response, expected, cell.guest);
    },
  },
  {
    it: 'binary: all 256 byte values reach the guest and come back exact (sha256 both ways)',
    async run(cell) {
      const response = await request(cell.url('/mnt/echo'), {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(ALL_BYTES.length) },
        body: ALL_BYTES,
      });
      expect(response.status).toBe(200);
      expect(response.header('x-received-sha256')).toBe(sha256(ALL_BYTES));
      expect(response.body.length).toBe(ALL_BYTES.length);
      expect(sha256(response.body)).toBe(sha256(ALL_BYTES));
    },
  },
  {
    it: "JSON body: the guest's own parser reads exactly what the client sent",
    async run(cell) {
      const sent = { name: 'café ☕', n: [1, 2, 3], nested: { ok: true } };
      const body = Buffer.from(JSON.stringify(sent));
      const response = await request(cell.url('/mnt/json-body'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
        body,
      });
      expect(response.status).toBe(200);
      expect(JSON.parse(response.body.toString('utf8'))).toEqual({ received: sent });
    },
  },
  {
    it: 'streaming: the client has the first 128 KiB before the guest writes its last chunk (nothing buffers the whole body)',
    async run(cell) {
      const id = nextId();
      const gate = cell.probe.gate(id);
      const stream = await within(openStream(cell.url(`/mnt/stream?id=${id}`)), 10_000, 'the response head');
      expect(stream.response.statusCode).toBe(200);
      const first = STREAM_PART.length * STREAM_PARTS;
      // The guest's last write waits on the gate: if anything held the body back, this never resolves.
      await within(stream.until(first), 10_000, 'the first 128 KiB while the guest waits to write its last chunk');
      gate.resolve();
      const body = await within(stream.ended, 10_000, 'the end of the stream');
      expect(body.length).toBe(first + STREAM_LAST.length);
      expect(body.subarray(0, first).equals(Buffer.alloc(first, 'a'))).toBe(true);
      expect(body.subarray(first).toString()).toBe(STREAM_LAST);
      // An Express guest writes with `if (!res.write(c)) await once(res, 'drain')`: write() said
      // false at least once, and 'drain' came, or the body would have stopped short.
      if (cell.guest.writesWithDrain) expect(cell.probe.drainWaits.get(id)).toBeGreaterThan(0);
    },
  },
  {
    it: 'HEAD: the head of the GET, with its Content-Length, and not one body byte',
    async run(cell) {
      const client = await RawSocket.connect(cell.server.port);
      client.write(rawRequest('HEAD', '/mnt/json', ['Connection: close']));
      await client.waitForClose();
      const head = parseHead(client.data);
      expect(head).not.toBeNull();
      expect(head!.status).toBe(200);
      expect(head!.header('content-type')).toMatch(/^application\/json/);
      expect(head!.header('content-length')).toBe(String(Buffer.byteLength(JSON.stringify(JSON_DOC))));
      expect(client.data.length - head!.bodyStart).toBe(0);
    },
  },
  {
    it: 'binary, chunked upload: a body of unknown length reaches the guest whole and comes back exact',
    async run(cell) {
      const response = await request(cell.url('/mnt/echo'), {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' },
        body: ALL_BYTES,
      });
      expect(response.status).toBe(200);
      expect(response.header('x-received-sha256')).toBe(sha256(ALL_BYTES));
      expect(sha256(response.body)).toBe(sha256(ALL_BYTES));
    },
  },
  {
    it: 'Expect: 100-continue: the client gets 100 Continue, sends the body, and the guest echoes it',
    async run(cell) {
      const body = ALL_BYTES.subarray(0, 4096);
      const client = await RawSocket.connect(cell.server.port);
      client.write(
        rawRequest('POST', '/mnt/echo', [
          'Content-Type: application/octet-stream',
          `Content-Length: ${body.length}`,
          'Expect: 100-continue',
          'Connection: close',
        ]),
      );
      const interim = await client.head();
      expect(interim.status).toBe(100);
      client.write(body);
      await client.waitForClose();
      const head = parseHead(client.data, interim.bodyStart);
      expect(head).not.toBeNull();
      expect(head!.status).toBe(200);
      expect(head!.header('x-received-sha256')).toBe(sha256(body));
    },
  },
  {
    it: "a host body parser ran first: the guest's own parser still reads the JSON, and binary comes through exact",
    when: ({ host }) => HOST_PARSERS[host.name] !== undefined,
    async run(cell) {
      const sent = { name: 'café ☕', n: [1, 2, 3] };
      for (const parser of HOST_PARSERS[cell.host.name]!) {
        const server = await cell.startWith({ parser });
        const json = Buffer.from(JSON.stringify(sent));
        const parsed = await request(server.url + '/mnt/json-body', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': String(json.length) },
          body: json,
        });
        expect(parsed.status, parser).toBe(200);
        expect(JSON.parse(parsed.body.toString('utf8')), parser).toEqual({ received: sent });
        const echoed = await request(server.url + '/mnt/echo', {
          method: 'POST',
          headers: { 'content-type': 'application/octet-stream', 'content-length': String(ALL_BYTES.length) },
          body: ALL_BYTES,
        });
        expect(echoed.status, parser).toBe(200);
        expect(sha256(echoed.body), parser).toBe(sha256(ALL_BYTES));
      }
    },
  },
  {
    it: 'a body that breaks after the head: the client sees the response cut short, never a clean end',
    async run(cell) {
      await expect(request(cell.url('/mnt/broken'))).rejects.toThrow();
    },
  },
  {
    it: 'keep-alive: after a POST the guest answered without reading its body, the next request on the same connection is answered',
    async run(cell) {
      const client = await RawSocket.connect(cell.server.port);
      client.write(rawRequest('POST', '/mnt/ignore-body', ['Content-Type: application/octet-stream', `Content-Length: ${ALL_BYTES.length}`]));
      client.write(ALL_BYTES);
      const first = await client.head();
      expect(first.status).toBe(200);
      await client.waitFor(() => client.data.indexOf('ignored', first.bodyStart) !== -1, 'the first body');
      const secondAt = client.data.length;
      client.write(rawRequest('GET', '/mnt/json', ['Connection: close']));
      await client.waitForClose();
      const second = parseHead(client.data, secondAt);
      expect(second, 'a second response on the same connection').not.toBeNull();
      expect(second!.status).toBe(200);
      expect(JSON.parse(client.data.subarray(second!.bodyStart).toString('utf8'))).toEqual(JSON_DOC);
    },
  },
  {
    it: 'an upload the client abandons: the guest stops waiting for the body (its request closes) instead of hanging',
    async run(cell) {
      const id = nextId();
      const closed = cell.probe.closed(id);
      const client = await RawSocket.connect(cell.server.port);
      client.write(rawRequest('POST', `/mnt/upload?id=${id}`, ['Content-Type: application/octet-stream', 'Content-Length: 1000000']));
      client.write(ALL_BYTES.subarray(0, 1000));
      // Once the guest's route runs and watches its request, the client leaves mid-body.
      await within(cell.probe.started(id).promise, 10_000, 'the upload reaching the guest');
      client.destroy();
      await within(closed.promise, 10_000, "the guest's body read ending after the client left");
    },
  },
  {
    it: "HEAD of an endless stream: the head arrives with no body byte, and the guest's stream is stopped ('close')",
    async run(cell) {
      const id = nextId();
      const closed = cell.probe.closed(id);
      const client = await RawSocket.connect(cell.server.port);
      client.write(rawRequest('HEAD', `/mnt/endless?id=${id}`));
      const head = await client.head();
      expect(head.status).toBe(200);
      expect(head.header('content-type')).toMatch(/^text\/event-stream/);
      await within(closed.promise, 10_000, "the guest observing 'close' after a HEAD");
      expect(client.data.length - head.bodyStart).toBe(0);
    },
  },
  {
    it: "endless stream: the guest does not see 'close' while the client reads, and does see it once the client leaves",
    async run(cell) {
      const id = nextId();
      const closed = cell.probe.closed(id);
      const client = await RawSocket.connect(cell.server.port);
      client.write(rawRequest('GET', `/mnt/endless?id=${id}`));
      const head = await client.head();
      expect(head.status).toBe(200);
      await client.waitFor(() => client.data.indexOf('data: 2', head.bodyStart) !== -1, 'three events');
      expect(closed.settled).toBe(false);
      client.destroy();
      await within(closed.promise, 10_000, "the guest observing 'close' after the client left");
    },
  },
  {
    it: 'file: the bytes of a temp file arrive exact, sent the guest’s own way',
    async run(cell) {
      const response = await request(cell.url('/mnt/file'));
      expect(response.status).toBe(200);
      expect(response.body.length).toBe(FILE_BYTES.length);
      expect(sha256(response.body)).toBe(sha256(FILE_BYTES));
      if (cell.guest.fileHasLength) expect(response.header('content-length')).toBe(String(FILE_BYTES.length));
    },
  },
];

// --- the 16 cells ---

for (const host of HOSTS) {
  for (const guest of GUESTS) {
    describe(`${HOST_LABELS[host.name]} host × ${guest.label} guest`, () => {
      const probe = new Probe();
      const extra: Started[] = [];
      let built: ReturnType<Guest['build']>;
      const cell = { host, guest, probe } as Cell;

      beforeAll(async () => {
        built = guest.build(probe, FILE);
        cell.app = built.app;
        cell.server = await host.start(built.app);
        cell.url = (target) => cell.server.url + target;
        cell.startWith = async (setup) => {
          const started = await host.start(built.app, setup);
          extra.push(started);
          return started;
        };
      });

      afterEach(() => {
        closeClients();
        for (const socket of streamSockets) socket.destroy();
        streamSockets.clear();
      });

      afterAll(async () => {
        probe.releaseAll();
        await Promise.all([cell.server, ...extra].filter(Boolean).map((server) => server.close()));
        await built?.close();
      });

      for (const c of cases) {
        if (c.when !== undefined && !c.when({ host, guest })) continue;
        it(c.it, () => c.run(cell));
      }
    });
  }
}
