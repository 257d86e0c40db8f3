// Delivers an `AppResponse` to a Node `ServerResponse`: one `writeHead`, chunks written at the pace
// the socket drains [B1], an aborted connection when the body fails after the head is out [B6].
import { ServerResponse } from 'node:http';
import type { AppResponse } from './gateway.js';
import { applyHeaders, type HeaderTarget } from './host-headers.js';

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
  // for any other name the app's value replaces the host's, where the host's stood (setHeader keeps
  // an existing name's place, as the header would sit had the app's route set it natively).
  headerResponse = res;
  applyHeaders(headers, responseHeaders);
  headerResponse = null;
  if (response.lengthComputed) res.setHeader('Content-Length', String(response.contentLength));
  res.writeHead(response.statusCode, response.reason);
}

// applyHeaders runs synchronously, so one target serves every response: no closures per response.
let headerResponse: ServerResponse | null = null;
const responseHeaders: HeaderTarget = {
  set: (name, value) => void headerResponse!.setHeader(name, value),
  appendCookie: (value) => void headerResponse!.appendHeader('Set-Cookie', value),
};

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
    if (response.missingBytes > 0) {
      // [B3] shorter than its Content-Length: send what there is, then close, so the client sees
      // an incomplete response and the connection is not reused out of step.
      response.log(`the body is ${response.missingBytes} bytes short of its Content-Length of ${response.contentLength}; closing the connection`);
      res.shouldKeepAlive = false;
    }
    if (!startHead(res, response)) return;
    if (chunks.length === 0) {
      res.end();
    } else if (chunks.length === 1) {
      endWith(res, chunks[0]!);
    } else {
      res.cork();
      for (const chunk of chunks) res.write(chunk);
      res.end();
    }
    response.close();
    return;
  }
  if (!startHead(res, response)) return;
  return pump(res, response);
}

// Node sends a string body in one write with the head, a Buffer as a second chunk behind it (a
// corked writev, several objects more per response). A short body goes as a latin1 string, which
// carries every byte value unchanged; only where `end` is Node's own, since a wrapper (compression)
// may not honour the encoding argument.
const ONE_WRITE_LIMIT = 8 * 1024;
const nodeEnd = ServerResponse.prototype.end;
const nodeWrite = ServerResponse.prototype.write;

function endWith(res: ServerResponse, chunk: Uint8Array): void {
  if (chunk.byteLength > ONE_WRITE_LIMIT || res.end !== nodeEnd) {
    res.end(chunk);
    return;
  }
  const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  res.end(bytes.toString('latin1'), 'latin1');
}

// The same for a streamed body's first chunk under a Content-Length (a chunked one puts its size
// line between head and data, so there is nothing to merge).
function writeFirst(res: ServerResponse, chunk: Uint8Array): boolean {
  if (chunk.byteLength > ONE_WRITE_LIMIT || res.chunkedEncoding || res.write !== nodeWrite) return res.write(chunk);
  const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return res.write(bytes.toString('latin1'), 'latin1');
}

// The head can still fail in Node (a header list the app changed after startResponse checked it, a
// host that already sent its own head): answer 500 while that is possible, never throw at the host.
function startHead(res: ServerResponse, response: AppResponse): boolean {
  try {
    writeHead(res, response);
    return true;
  } catch (err) {
    response.log('the response head could not be sent', err);
    response.failed();
    if (res.headersSent) {
      abortConnection(res, response);
    } else {
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      res.writeHead(500, 'Internal Server Error', ['Content-Type', 'text/plain; charset=utf-8', 'Content-Length', '21']);
      res.end('Internal Server Error');
    }
    return false;
  }
}

/**
 * Ends a connection whose response cannot be completed [B3, B6]. What was already written is flushed
 * first, so the client sees how far the response got: a chunked body without its terminating chunk,
 * or fewer bytes than its Content-Length. A close-delimited body (an HTTP/1.0 client) would look
 * whole if it ended with a FIN, so that connection is reset instead.
 */
export function abortConnection(res: ServerResponse, response: AppResponse): void {
  const socket = res.socket;
  if (socket === null || socket.destroyed) {
    res.destroy();
    return;
  }
  // res.write corks the socket until the next tick; uncork hands the bytes to the kernel now.
  while (socket.writableCorked > 0) socket.uncork();
  const closeDelimited = !res.chunkedEncoding && response.contentLength === -1 && !response.bodyless;
  if (closeDelimited) socket.resetAndDestroy();
  res.destroy();
}

async function pump(res: ServerResponse, response: AppResponse): Promise<void> {
  // One 'drain' listener for the whole response, not one per wait: middleware that wraps `res`
  // (compression) forwards `on('drain')` to its own stream but not `off`, so per-wait ones pile up.
  let wake: (() => void) | null = null;
  const resume = (): void => {
    const resolve = wake;
    wake = null;
    if (resolve !== null) resolve();
  };
  // [B7, B10] a close before the response finished is a disconnect: stop the body at once.
  const onClose = (): void => {
    if (!res.writableEnded) response.close();
    resume();
  };
  res.on('close', onClose);
  res.on('drain', resume);
  let first = true;
  try {
    for (;;) {
      let chunk = response.nextChunk();
      if (chunk !== null && !(chunk instanceof Uint8Array)) chunk = await chunk;
      if (chunk === null) break;
      if (res.destroyed) return;
      const accepted = first && chunk.byteLength > 0 ? writeFirst(res, chunk) : res.write(chunk);
      if (chunk.byteLength > 0) first = false;
      if (!accepted && !res.destroyed) await new Promise<void>((resolve) => (wake = resolve));
      if (res.destroyed) return;
    }
    if (res.destroyed) return;
    const missing = response.missingBytes;
    if (missing > 0) {
      // [B3] a body shorter than its Content-Length: the client must not take it for whole.
      response.log(`the body ended ${missing} bytes short of its Content-Length of ${response.contentLength}; closing the connection`);
      abortConnection(res, response);
      return;
    }
    res.end();
  } catch (err) {
    // [B6] the head is out: abort so the client sees an incomplete response, not a short one.
    response.log('the response body failed after the headers were sent; aborting the connection', err);
    response.failed();
    abortConnection(res, response);
  } finally {
    res.off('close', onClose);
    res.off('drain', resume);
  }
}
