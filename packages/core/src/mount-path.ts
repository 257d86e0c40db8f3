// SCRIPT_NAME and PATH_INFO for an app mounted inside a host framework: the host strips its mount
// prefix from the URL (Express `req.url`, koa-mount `ctx.path`); what it stripped is the SCRIPT_NAME.
import { decodePathLatin1, splitRequestTarget } from './environ.js';

export interface MountSplit {
  /** Decoded, latin-1; `''` or starting with `/`, never `'/'`. */
  scriptName: string;
  /** Decoded, latin-1; `''` or starting with `/`. */
  pathInfo: string;
  /** The raw query, as sent. */
  query: string;
}

/**
 * Splits a request between the mount and the app, from the full request-target and the part of it
 * the host left for the app. Both are decoded first, so the split agrees with the path every router
 * sees (`/%61pp/x` under `/app` is `('/app', '/x')`).
 *
 * ```ts
 * splitMount('/legacy/a?x=1', '/a?x=1') // { scriptName: '/legacy', pathInfo: '/a', query: 'x=1' }
 * splitMount('/legacy', '/')            // { scriptName: '/legacy', pathInfo: '', query: '' }
 * ```
 */
export function splitMount(fullTarget: string, innerTarget: string): MountSplit {
  const [fullRaw, query] = splitRequestTarget(fullTarget);
  const [innerRaw] = splitRequestTarget(innerTarget);
  const full = decodePathLatin1(fullRaw);
  const inner = decodePathLatin1(innerRaw);
  if (full === inner) return { scriptName: '', pathInfo: full, query };
  if (inner !== '' && full.endsWith(inner)) {
    return normalise(full.slice(0, full.length - inner.length), inner, query);
  }
  // Hosts report an exact mount match as '/' though nothing follows the prefix: `/app` → ('/app', '').
  if (inner === '/' || inner === '') return normalise(full, '', query);
  // The host rewrote the URL in a way we cannot line up: the app sees the host's view, unmounted.
  return { scriptName: '', pathInfo: inner, query };
}

function normalise(scriptName: string, pathInfo: string, query: string): MountSplit {
  // SCRIPT_NAME is never '/': a trailing slash of the prefix belongs to PATH_INFO.
  if (scriptName.endsWith('/')) {
    scriptName = scriptName.slice(0, -1);
    pathInfo = '/' + pathInfo.replace(/^\//, '');
    if (pathInfo === '/' && scriptName === '') pathInfo = '/';
  }
  return { scriptName, pathInfo, query };
}

// %2F, %5C, and the unreserved characters of RFC 3986 (ALPHA, DIGIT, '-', '.', '_', '~'), any case.
const AMBIGUOUS_ESCAPE = /%(?:2[dDeEfF]|3\d|4[1-9a-fA-F]|5[0-9aAcCfF]|6[1-9a-fA-F]|7[0-9aAeE])/;

/**
 * Whether a request-target's path holds a percent-escape that decodes to a path separator or to a
 * character no client needs to escape. A host router matches the raw path while PATH_INFO is
 * decoded, so `/%61dmin` or `/admin%2Fx` would pass a host guard on `/admin` and still reach an
 * app that routes `/admin` itself (the CVE-2026-22031 pattern). Adapters refuse such paths unless
 * told not to; a normalising client never sends them.
 *
 * ```ts
 * hasAmbiguousEscape('/%61dmin/x') // true
 * hasAmbiguousEscape('/caf%C3%A9') // false
 * ```
 */
export function hasAmbiguousEscape(target: string): boolean {
  const end = target.indexOf('?');
  const path = end === -1 ? target : target.slice(0, end);
  return path.includes('%') && AMBIGUOUS_ESCAPE.test(path);
}
