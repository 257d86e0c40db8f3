// Delivers an `AppResponse` to a Node `ServerResponse`: one `writeHead`, chunks written at the pace
// the socket drains [B1], an aborted connection when the body fails after the head is out [B6].
import type { ServerResponse } from 'node:http';
import type { AppResponse } from './gateway.js';

/** How the head is written: straight (our own server) or merged with headers a host already set [B8]. */
export function writeHead(res: ServerResponse, response: AppResponse): void {
  const headers = response.headers;
  if (res.getHeaderNames().length === 0) {
    const n = headers.length;
    const flat: string[] = new Array(n * 2 + (response.lengthComputed ? 2 : 0));
    for (let i = 0; i < n; i++) {
      const pair = headers[i]!;
      flat[2 * i] = pair[0];
      flat[2 * i + 1] = pair[1];
    }
    if (response.lengthComputed) {
      flat[2 * n] = 'Content-Length';
      flat[2 * n + 1] = String(response.contentLength);
    }
    res.writeHead(response.statusCode, response.reason, flat);
    return;
  }
  // A host set headers first (a cookie, CORS): keep them beside the app's. Set-Cookie lines add up;
  // for any other name the app's value replaces the host's.
  const replaced = new Set<string>();
  for (const [name, value] of headers) {
    const key = name.toLowerCase();
    if (key !== 'set-cookie' && !replaced.has(key)) {
      replaced.add(key);
      res.removeHeader(name);
    }
    res.appendHeader(name, value);
  }
  if (response.lengthComputed) res.setHeader('Content-Length', String(response.contentLength));
  res.writeHead(response.statusCode, response.reason);
}

/**
 * Sends the head and body of a settled response. Resolves when the response ended, was aborted by
 * the client, or was destroyed after a body error; never rejects.
 */
export function sendResponse(res: ServerResponse, response: AppResponse): void | Promise<void> {
  if (res.destroyed) {
    response.close();
    return;
  }
  if (response.complete) {
    // Fast path: every byte is in hand.
    const chunks = response.takeReady();
    writeHead(res, response);
    if (chunks.length <= 1) {
      res.end(chunks[0]);
    } else {
      res.cork();
      for (const chunk of chunks) res.write(chunk);
      res.end();
    }
    response.close();
    return;
  }
  writeHead(res, response);
  return pump(res, response);
}

async function pump(res: ServerResponse, response: AppResponse): Promise<void> {
  // [B7, B10] a close before the response finished is a disconnect: stop the body at once.
  const onClose = (): void => {
    if (!res.writableEnded) response.close();
  };
  res.on('close', onClose);
  try {
    for (;;) {
      let chunk = response.nextChunk();
      if (chunk !== null && !(chunk instanceof Uint8Array)) chunk = await chunk;
      if (chunk === null) break;
      if (res.destroyed) return;
      if (!res.write(chunk) && !res.destroyed) await drained(res);
      if (res.destroyed) return;
    }
    if (res.destroyed) return;
    const missing = response.missingBytes;
    if (missing > 0) {
      // [B3] a body shorter than its Content-Length: the client must not take it for whole.
      response.log(`the body ended ${missing} bytes short of its Content-Length of ${response.contentLength}; closing the connection`);
      res.destroy();
      return;
    }
    res.end();
  } catch (err) {
    // [B6] the head is out: abort so the client sees an incomplete response, not a short one.
    response.log('the response body failed after the headers were sent; aborting the connection', err);
    response.failed();
    res.destroy();
  } finally {
    res.off('close', onClose);
  }
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
