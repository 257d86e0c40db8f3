// A raw TCP (or TLS) client for wire tests: it writes bytes, keeps every byte it receives, and knows
// when the peer closed. The suites' own clients add their parsers on top.
import net from 'node:net';
import tls from 'node:tls';

export class SocketRecorder {
  data = Buffer.alloc(0);
  closed = false;
  /** The socket's error, if one came: a reset from a server that aborted its response is expected in some tests. */
  error: NodeJS.ErrnoException | null = null;
  private waiters: Array<() => void> = [];

  protected constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.data = Buffer.concat([this.data, chunk]);
      this.wake();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.error = err;
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  /** Connects to 127.0.0.1:`port` (over TLS with `tls: true`) and resolves once connected. */
  protected static async open(port: number, options: { tls?: boolean } = {}): Promise<net.Socket> {
    const socket = options.tls ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }) : net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once(options.tls ? 'secureConnect' : 'connect', () => {
        socket.off('error', reject);
        resolve();
      });
      socket.once('error', reject);
    });
    return socket;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  write(bytes: string | Uint8Array): void {
    this.socket.write(bytes);
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Everything received, as latin-1 text. */
  get text(): string {
    return this.data.toString('latin1');
  }

  /** Resolves once `check()` holds; rejects if the peer closes first. */
  async waitFor(check: () => boolean, what: string): Promise<void> {
    while (!check()) {
      if (this.closed) throw new Error(`the server closed the connection before ${what}; received ${JSON.stringify(this.text.slice(0, 500))}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Resolves once the peer closed. */
  async waitForClose(): Promise<void> {
    while (!this.closed) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }
}
