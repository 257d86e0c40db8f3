// `wsgi.errors` (SPEC §3): a text sink that accepts anything and never throws.
import type { Errors } from './types.js';

/** Writes each message through `log`; a failing log never reaches the app. */
export class LogErrors implements Errors {
  constructor(private readonly log: (message: string) => void) {}

  write(s: string): void {
    try {
      this.log(typeof s === 'string' ? s : asText(s));
    } catch {
      // PEP 3333: wsgi.errors should accept any text; a broken sink must not break the response.
    }
  }

  writelines(seq: Iterable<string>): void {
    for (const s of seq) this.write(s);
  }

  flush(): void {}
}

// Text for a value an app wrote that was not a string; an object with no `toString` still shows.
function asText(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** The default sink: the process's standard error. */
export const stderrErrors: Errors = new LogErrors((message) => {
  process.stderr.write(message);
});

/** Formats an error for a log line: its stack when it has one. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  try {
    return `non-error thrown: ${typeof err === 'string' ? err : JSON.stringify(err)}`;
  } catch {
    return `non-error thrown: ${String(err)}`;
  }
}
