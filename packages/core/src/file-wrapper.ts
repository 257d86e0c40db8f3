// `wsgi.file_wrapper` (SPEC §5): a file path, an open FileHandle or a Readable as a closable body.
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { Body, Chunk } from './types.js';

const DEFAULT_BLOCK_SIZE = 64 * 1024;

/**
 * A file as a body. Reading starts at the file's current position (a path: its start) and stops at
 * its end; the gateway stops earlier at `Content-Length`. `close()` closes the file, once.
 */
export class FileBody implements AsyncIterable<Chunk> {
  private handle: FileHandle | null = null;
  private stream: Readable | null = null;
  private closed = false;

  constructor(
    readonly file: string | FileHandle | Readable,
    readonly blockSize: number = DEFAULT_BLOCK_SIZE,
  ) {
    if (!Number.isInteger(blockSize) || blockSize <= 0) {
      throw new TypeError(`wsgi.file_wrapper: blockSize must be a positive whole number, got ${blockSize}`);
    }
    if (file instanceof Readable) this.stream = file;
    else if (typeof file !== 'string') this.handle = file;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Chunk> {
    if (this.closed) return;
    if (this.stream !== null) {
      try {
        for await (const chunk of this.stream) {
          if (this.closed) return;
          yield typeof chunk === 'string' ? chunk : (chunk as Uint8Array);
        }
      } catch (err) {
        // close() destroyed the stream under a pending read: that ends the body, it is no error.
        if (this.closed) return;
        throw err;
      }
      return;
    }
    if (this.handle === null) {
      const handle = await open(this.file as string, 'r');
      if (this.closed) {
        await handle.close();
        return;
      }
      this.handle = handle;
    }
    const handle = this.handle;
    for (;;) {
      // A new buffer each time: a yielded chunk may still be queued in the socket.
      const buffer = Buffer.allocUnsafe(this.blockSize);
      const { bytesRead } = await handle.read(buffer, 0, this.blockSize, null);
      if (bytesRead === 0 || this.closed) return;
      yield bytesRead === this.blockSize ? buffer : buffer.subarray(0, bytesRead);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.stream !== null) this.stream.destroy();
    const handle = this.handle;
    this.handle = null;
    if (handle !== null) await handle.close();
  }
}

/** The `wsgi.file_wrapper` every gateway in core puts into environ. */
export function fileWrapper(file: unknown, blockSize?: number): Body {
  if (typeof file !== 'string' && !(file instanceof Readable) && !isFileHandle(file)) {
    throw new TypeError(
      `wsgi.file_wrapper expects a file path, an open FileHandle or a Readable, got ${file === null ? 'null' : typeof file}`,
    );
  }
  return new FileBody(file as string | FileHandle | Readable, blockSize);
}

function isFileHandle(value: unknown): value is FileHandle {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as FileHandle).read === 'function' &&
    typeof (value as FileHandle).fd === 'number'
  );
}
