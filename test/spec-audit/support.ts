// Shared pieces for the SPEC audit: the five hosts an outsider would try (our serve(), plus the four
// of test/conformance/hosts.ts: toNodeListener on node:http, Express, Fastify with a prefix, Koa via
// koa-mount), every one mounting the app under '/mnt', and a raw-socket request helper.
import { serve, type App } from '@node-wsgi/core';
import { describe } from 'vitest';
import { HOSTS, PREFIX, closeHosts, mountedAt, trackStarted, type HostSetup, type Started } from '../conformance/hosts.js';
import { ErrorLog } from '../support/error-log.js';
import { RawClient, closeAll, head, type RawResponse } from '../support/raw-http.js';

export { PREFIX, HOST_NEXT } from '../conformance/hosts.js';
export { RawClient, head, deferred, type RawResponse } from '../support/raw-http.js';
export { ErrorLog } from '../support/error-log.js';

export interface AuditHost {
  name: 'serve' | 'node' | 'express' | 'fastify' | 'koa';
  fallthrough: boolean;
  start(app: App, setup?: HostSetup): Promise<Started>;
}

const serveHost: AuditHost = {
  name: 'serve',
  fallthrough: false,
  async start(app) {
    const errors = new ErrorLog();
    const server = await serve(mountedAt(PREFIX, app), { port: 0, host: '127.0.0.1', handleSignals: false, errors });
    return trackStarted(server, errors);
  },
};

export const AUDIT_HOSTS: readonly AuditHost[] = [serveHost, ...HOSTS];

export function describeAuditHosts(body: (host: AuditHost) => void, only?: ReadonlyArray<AuditHost['name']>): void {
  for (const host of AUDIT_HOSTS) {
    if (only && !only.includes(host.name)) continue;
    describe(`host ${host.name}`, () => body(host));
  }
}

/** Closes every host and raw client opened; for `afterEach`. */
export async function closeEverything(): Promise<void> {
  await closeHosts();
  await closeAll();
}

/** One request on a fresh raw connection: the full response (status line reason kept). */
export async function rawRequest(port: number, method: string, target: string, headers: string[] = [], body = '', version = '1.1'): Promise<RawResponse & { client: RawClient }> {
  const client = await RawClient.connect(port);
  client.write(head(method, target, headers, version) + body);
  const res = await client.readResponse();
  return Object.assign(res, { client });
}

export async function text(res: Response): Promise<string> {
  return res.text();
}
