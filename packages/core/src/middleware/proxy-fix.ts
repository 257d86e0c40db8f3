/**
 * `proxyFix`: the client's address, scheme, host and mount prefix as the reverse proxies in front of
 * the server saw them (Werkzeug's `ProxyFix`). Use it when the app runs behind nginx, a load
 * balancer or a CDN that sets `X-Forwarded-*` (or RFC 7239 `Forwarded`), so that `REMOTE_ADDR` is the
 * client and the URLs the app builds say `https://example.com/app/…`, not `http://127.0.0.1:8000/…`.
 *
 * ```ts
 * // one proxy (nginx) that sets X-Forwarded-For, -Proto, -Host and -Prefix
 * const app = proxyFix(inner, { for: 1, proto: 1, host: 1, prefix: 1 });
 * ```
 *
 * Each option is the number of proxies that set that header, counted from the right: every proxy
 * appends what it saw, so only the last N values were written by proxies you run; the ones to their
 * left came from the client, who can write anything. `0` ignores the header. Defaults as Werkzeug:
 * `for: 1, proto: 1, host: 0, port: 0, prefix: 0`. `forwarded: N` reads the RFC 7239 `Forwarded`
 * header instead of `X-Forwarded-For/Proto/Host` (its `for=`, `proto=` and `host=`); `port` and
 * `prefix` still come from `X-Forwarded-Port`/`-Prefix`, which `Forwarded` has no field for.
 *
 * A header with fewer values than trusted hops is ignored whole (a request that skipped a proxy is
 * not trusted); so is a value that does not parse (an address that is not IPv4/IPv6, a scheme other
 * than http/https, a port that is not 1–65535, a host with characters no host has, a prefix that does
 * not start with '/'). The values before the change are kept in `environ['proxyfix.orig']`.
 *
 * Differences from Werkzeug, on purpose: values that do not parse are ignored (Werkzeug takes any
 * text); `HTTPS` follows the new scheme ('on', or removed for http); `REMOTE_PORT` becomes the
 * client's port when the proxy sent one (`"[2001:db8::1]:4711"`) and is removed otherwise, since the
 * proxy's port says nothing about the client; a forwarded host without a port sets `SERVER_PORT` to
 * the scheme's default port; IPv6 brackets are dropped from `SERVER_NAME` (`'[::1]:80'` → `'::1'`,
 * `'80'`) as the gateway writes it; and the prefix is put in front of `SCRIPT_NAME` instead of
 * replacing it, which is the same when `proxyFix` is outermost (the usual case) and right when a
 * host mounted the app under a prefix.
 *
 * Security: set exactly as many hops as there are proxies you control in front of the server, and
 * only when clients cannot reach the server around them. One too many, and any client chooses its
 * own `REMOTE_ADDR` and host (and so the links in password-reset mails); nothing else in node-wsgi
 * trusts these headers.
 */
import { isIP } from 'node:net';
import { decodePathLatin1 } from '../environ.js';
import type { App, Body, Environ, StartResponse } from '../types.js';

/** How many proxies set each header; 0 ignores it. */
export interface ProxyFixOptions {
  /** `X-Forwarded-For` → `REMOTE_ADDR`. Default 1. */
  for?: number;
  /** `X-Forwarded-Proto` → `wsgi.url_scheme` and `HTTPS`. Default 1. */
  proto?: number;
  /** `X-Forwarded-Host` → `HTTP_HOST`, `SERVER_NAME`, `SERVER_PORT`. Default 0. */
  host?: number;
  /** `X-Forwarded-Port` → `SERVER_PORT` and the port in `HTTP_HOST`. Default 0. */
  port?: number;
  /** `X-Forwarded-Prefix` → in front of `SCRIPT_NAME`. Default 0. */
  prefix?: number;
  /** RFC 7239 `Forwarded` (`for=`, `proto=`, `host=`) instead of `X-Forwarded-For/Proto/Host`. Default 0. */
  forwarded?: number;
}

/** What `environ['proxyfix.orig']` holds: the values before `proxyFix` changed them (absent ones left out). */
export interface ProxyFixOriginal {
  REMOTE_ADDR?: string;
  REMOTE_PORT?: string;
  'wsgi.url_scheme'?: string;
  HTTPS?: string;
  HTTP_HOST?: string;
  SERVER_NAME?: string;
  SERVER_PORT?: string;
  SCRIPT_NAME?: string;
  HTTP_X_FORWARDED_FOR?: string;
  HTTP_X_FORWARDED_PROTO?: string;
  HTTP_X_FORWARDED_HOST?: string;
  HTTP_X_FORWARDED_PORT?: string;
  HTTP_X_FORWARDED_PREFIX?: string;
  HTTP_FORWARDED?: string;
}

const OPTION_NAMES = ['for', 'proto', 'host', 'port', 'prefix', 'forwarded'] as const;

const ORIGINAL_KEYS = [
  'REMOTE_ADDR',
  'REMOTE_PORT',
  'wsgi.url_scheme',
  'HTTPS',
  'HTTP_HOST',
  'SERVER_NAME',
  'SERVER_PORT',
  'SCRIPT_NAME',
  'HTTP_X_FORWARDED_FOR',
  'HTTP_X_FORWARDED_PROTO',
  'HTTP_X_FORWARDED_HOST',
  'HTTP_X_FORWARDED_PORT',
  'HTTP_X_FORWARDED_PREFIX',
  'HTTP_FORWARDED',
] as const;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return String(value);
  return `'${typeof value}'`;
}

/** The value the `trusted`-th proxy from the right wrote, or undefined (untrusted, or too few values). */
function trustedValue(trusted: number, header: unknown): string | undefined {
  if (trusted === 0 || typeof header !== 'string' || header === '') return undefined;
  const values = header.split(',');
  // Werkzeug: fewer values than trusted proxies means a proxy was skipped, so none is trusted.
  if (values.length < trusted) return undefined;
  const value = values[values.length - trusted]!.trim();
  return value === '' ? undefined : value;
}

/** An IP address from `X-Forwarded-For` or `for=`: `1.2.3.4`, `1.2.3.4:5678`, `::1`, `[::1]`, `[::1]:80`. */
function parseAddress(value: string): { address: string; port: string | undefined } | undefined {
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close === -1) return undefined;
    const address = value.slice(1, close);
    const rest = value.slice(close + 1);
    const port = rest === '' ? undefined : rest.startsWith(':') ? parsePort(rest.slice(1)) : undefined;
    if (rest !== '' && port === undefined) return undefined;
    return isIP(address) === 6 ? { address, port } : undefined;
  }
  if (isIP(value) !== 0) return { address: value, port: undefined };
  // IPv4 with a port, as some load balancers send it.
  const colon = value.lastIndexOf(':');
  if (colon === -1 || isIP(value.slice(0, colon)) !== 4) return undefined;
  const port = parsePort(value.slice(colon + 1));
  return port === undefined ? undefined : { address: value.slice(0, colon), port };
}

function parseScheme(value: string): 'http' | 'https' | undefined {
  const scheme = value.toLowerCase();
  return scheme === 'http' || scheme === 'https' ? scheme : undefined;
}

function parsePort(value: string): string | undefined {
  if (!/^\d{1,5}$/.test(value)) return undefined;
  const port = Number(value);
  return port >= 1 && port <= 65535 ? String(port) : undefined;
}

// RFC 3986 reg-name characters (unreserved, pct-encoded, sub-delims), less ',' which separates values.
const REG_NAME = /^[A-Za-z0-9\-._~%!$&'()*+;=]+$/;

/** A host with an optional port: `example.com`, `example.com:8443`, `[::1]`, `[::1]:8080`. */
function parseHost(value: string): { name: string; port: string | undefined; host: string } | undefined {
  let name: string;
  let portText: string | undefined;
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close === -1) return undefined;
    name = value.slice(1, close);
    if (isIP(name) !== 6) return undefined;
    const rest = value.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return undefined;
      portText = rest.slice(1);
    }
  } else {
    const colon = value.indexOf(':');
    name = colon === -1 ? value : value.slice(0, colon);
    if (colon !== -1) portText = value.slice(colon + 1);
    if (!REG_NAME.test(name)) return undefined;
  }
  let port: string | undefined;
  if (portText !== undefined) {
    port = parsePort(portText);
    if (port === undefined) return undefined;
  }
  return { name, port, host: value };
}

/** `X-Forwarded-Prefix` as a `SCRIPT_NAME`: decoded like `PATH_INFO`, no trailing '/'. */
function parsePrefix(value: string): string | undefined {
  if (!value.startsWith('/') || /[?#]/.test(value)) return undefined;
  const decoded = decodePathLatin1(value).replace(/\/+$/, '');
  // A NUL or other control character has no place in a path prefix.
  if (/[\x00-\x1f\x7f]/.test(decoded)) return undefined;
  return decoded;
}

type ForwardedElement = Map<string, string>;

/**
 * RFC 7239 `Forwarded`: `for=192.0.2.60;proto=http, for="[2001:db8::17]:4711";host=example.com`.
 * Returns undefined when the header does not parse: hops cannot be counted in it.
 */
function parseForwarded(header: string): ForwardedElement[] | undefined {
  const elements: ForwardedElement[] = [];
  let element: ForwardedElement = new Map();
  let i = 0;
  const n = header.length;
  const skipSpace = (): void => {
    while (i < n && (header[i] === ' ' || header[i] === '\t')) i++;
  };
  for (;;) {
    skipSpace();
    if (i < n && header[i] !== ',' && header[i] !== ';') {
      // forwarded-pair = token "=" value
      const eq = header.indexOf('=', i);
      if (eq === -1) return undefined;
      const name = header.slice(i, eq).trim().toLowerCase();
      if (!/^[a-z0-9!#$%&'*+\-.^_`|~]+$/.test(name)) return undefined;
      i = eq + 1;
      let value = '';
      if (header[i] === '"') {
        i++;
        for (;;) {
          if (i >= n) return undefined;
          const c = header[i]!;
          if (c === '"') {
            i++;
            break;
          }
          if (c === '\\') {
            if (i + 1 >= n) return undefined;
            value += header[i + 1];
            i += 2;
            continue;
          }
          value += c;
          i++;
        }
      } else {
        const start = i;
        while (i < n && header[i] !== ';' && header[i] !== ',' && header[i] !== ' ' && header[i] !== '\t') i++;
        value = header.slice(start, i);
      }
      // A parameter given twice in one element is invalid (RFC 7239 §4).
      if (element.has(name)) return undefined;
      element.set(name, value);
      skipSpace();
    }
    if (i >= n) {
      elements.push(element);
      return elements;
    }
    const sep = header[i];
    i++;
    if (sep === ',') {
      elements.push(element);
      element = new Map();
    } else if (sep !== ';') {
      return undefined;
    }
  }
}

function checkCount(name: string, value: unknown): number {
  if (value === undefined) return -1;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new TypeError(
      `@node-wsgi/core: proxyFix expects option '${name}' to be a whole number of trusted proxies (0 or more), got ${describe(value)}`,
    );
  }
  return value;
}

/**
 * Rewrites `REMOTE_ADDR`, `wsgi.url_scheme`, `HTTP_HOST`, `SERVER_NAME`, `SERVER_PORT` and
 * `SCRIPT_NAME` from the headers the trusted proxies set, then calls `app`.
 *
 * ```ts
 * const app = proxyFix(inner, { for: 1, proto: 1, host: 1 });
 * // X-Forwarded-For: 203.0.113.7 → REMOTE_ADDR '203.0.113.7'; the original in environ['proxyfix.orig']
 * ```
 */
export function proxyFix(app: App, options: ProxyFixOptions = {}): App {
  if (typeof app !== 'function') {
    throw new TypeError(`@node-wsgi/core: proxyFix expects an app function, got ${describe(app)}`);
  }
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`@node-wsgi/core: proxyFix expects an options object, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!(OPTION_NAMES as readonly string[]).includes(key)) {
      throw new TypeError(
        `@node-wsgi/core: proxyFix got an unknown option ${JSON.stringify(key)}; expected ${OPTION_NAMES.join(', ')}`,
      );
    }
  }
  const given = {
    for: checkCount('for', options.for),
    proto: checkCount('proto', options.proto),
    host: checkCount('host', options.host),
    port: checkCount('port', options.port),
    prefix: checkCount('prefix', options.prefix),
    forwarded: checkCount('forwarded', options.forwarded),
  };
  const forwarded = Math.max(0, given.forwarded);
  if (forwarded > 0) {
    for (const name of ['for', 'proto', 'host'] as const) {
      if (given[name] > 0) {
        throw new TypeError(
          `@node-wsgi/core: proxyFix reads 'forwarded' instead of X-Forwarded-For/Proto/Host; set 'forwarded' or '${name}', not both`,
        );
      }
    }
  }
  const xFor = forwarded > 0 ? 0 : given.for === -1 ? 1 : given.for;
  const xProto = forwarded > 0 ? 0 : given.proto === -1 ? 1 : given.proto;
  const xHost = forwarded > 0 ? 0 : Math.max(0, given.host);
  const xPort = Math.max(0, given.port);
  const xPrefix = Math.max(0, given.prefix);

  return function proxyFixed(environ: Environ, startResponse: StartResponse): Body | Promise<Body> {
    const original: Record<string, string> = {};
    for (const key of ORIGINAL_KEYS) {
      const value = environ[key];
      if (typeof value === 'string') original[key] = value;
    }
    environ['proxyfix.orig'] = original as ProxyFixOriginal;

    let forValue: string | undefined;
    let protoValue: string | undefined;
    let hostValue: string | undefined;
    if (forwarded > 0) {
      const header = environ.HTTP_FORWARDED;
      if (typeof header === 'string' && header !== '') {
        const elements = parseForwarded(header);
        if (elements !== undefined && elements.length >= forwarded) {
          const element = elements[elements.length - forwarded]!;
          forValue = element.get('for');
          protoValue = element.get('proto');
          hostValue = element.get('host');
        }
      }
    } else {
      forValue = trustedValue(xFor, environ.HTTP_X_FORWARDED_FOR);
      protoValue = trustedValue(xProto, environ.HTTP_X_FORWARDED_PROTO);
      hostValue = trustedValue(xHost, environ.HTTP_X_FORWARDED_HOST);
    }

    const client = forValue === undefined ? undefined : parseAddress(forValue);
    if (client !== undefined) {
      environ.REMOTE_ADDR = client.address;
      // The proxy's port says nothing about the client: keep the client's when the proxy sent it.
      if (client.port !== undefined) environ.REMOTE_PORT = client.port;
      else delete environ.REMOTE_PORT;
    }

    const scheme = protoValue === undefined ? undefined : parseScheme(protoValue);
    if (scheme !== undefined) {
      environ['wsgi.url_scheme'] = scheme;
      if (scheme === 'https') environ.HTTPS = 'on';
      else delete environ.HTTPS;
    }

    const host = hostValue === undefined ? undefined : parseHost(hostValue);
    if (host !== undefined) {
      environ.HTTP_HOST = host.host;
      environ.SERVER_NAME = host.name;
      environ.SERVER_PORT = host.port ?? (environ['wsgi.url_scheme'] === 'https' ? '443' : '80');
    }

    const portValue = trustedValue(xPort, environ.HTTP_X_FORWARDED_PORT);
    const port = portValue === undefined ? undefined : parsePort(portValue);
    if (port !== undefined) {
      const current = environ.HTTP_HOST;
      if (typeof current === 'string' && current !== '') {
        // Replace the port of the host, IPv6 aware: '[::1]:8080' → '[::1]', '[::1]' stays.
        const bracket = current.lastIndexOf(']');
        const colon = current.lastIndexOf(':');
        const name = colon > bracket ? current.slice(0, colon) : current;
        environ.HTTP_HOST = `${name}:${port}`;
      }
      environ.SERVER_PORT = port;
    }

    const prefixValue = trustedValue(xPrefix, environ.HTTP_X_FORWARDED_PREFIX);
    const prefix = prefixValue === undefined ? undefined : parsePrefix(prefixValue);
    if (prefix !== undefined) environ.SCRIPT_NAME = prefix + (environ.SCRIPT_NAME ?? '');

    // [M1, M2] the child's body, close() and excInfo pass through untouched.
    return app(environ, startResponse);
  };
}
