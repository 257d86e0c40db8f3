// A `wsgi.errors` sink that keeps what it is given, so tests stay quiet and can look at it.
import type { Errors } from '@node-wsgi/core';

export class ErrorLog implements Errors {
  readonly lines: string[] = [];

  write(s: string): void {
    this.lines.push(s);
  }

  writelines(seq: Iterable<string>): void {
    for (const s of seq) this.write(s);
  }

  flush(): void {}

  /** Everything written, as one string. */
  get text(): string {
    return this.lines.join('');
  }
}
