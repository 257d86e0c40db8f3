// An app's body as a Node Readable, for hosts that reply with a stream (Koa's `ctx.body`, Fastify's
// `reply.send`). Pull-based: a chunk is taken from the app only when the host reads [B1].
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { AppResponse } from './gateway.js';

/**
 * Streams the body of a settled response. Ending early (the client left, the host destroyed it)
 * closes the app's body [B5]; a body that fails or ends short of its `Content-Length` destroys the
 * stream with the error, so the host aborts the connection instead of ending it cleanly [B3, B6].
 *
 * Given the Node response, the stream is also destroyed (and the app's body closed) when that
 * response closes without having read it: a host hook that replaced the payload (Fastify `onSend`)
 * would otherwise leave the app's body suspended for good.
 */
export class ResponseReadable extends Readable {
  constructor(
    private readonly response: AppResponse,
    res?: ServerResponse,
  ) {
    super({ highWaterMark: 16 * 1024 });
    if (res !== undefined) res.once('close', () => this.destroy());
  }

  override _read(): void {
    let next: ReturnType<AppResponse['nextChunk']>;
    try {
      next = this.response.nextChunk();
    } catch (err) {
      this.fail(err);
      return;
    }
    if (next === null) this.finish();
    else if (next instanceof Uint8Array) this.push(next);
    else next.then((chunk) => (chunk === null ? this.finish() : this.push(chunk)), (err: unknown) => this.fail(err));
  }

  private finish(): void {
    const missing = this.response.missingBytes;
    if (missing > 0) {
      const err = new Error(`the body ended ${missing} bytes short of its Content-Length of ${this.response.contentLength}`);
      this.response.log('the body ended short of its Content-Length; aborting the connection');
      this.destroy(err);
      return;
    }
    this.push(null);
  }

  private fail(err: unknown): void {
    this.response.log('the response body failed after the headers were sent; aborting the connection', err);
    this.response.failed();
    this.destroy(err instanceof Error ? err : new Error(String(err)));
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.response.close();
    callback(err);
  }
}
