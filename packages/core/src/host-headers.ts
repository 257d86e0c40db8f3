// The app's headers laid over headers a host already set [B8]: `Set-Cookie` lines add up; for any
// other name the app's value (or values, for a repeated name) replaces the host's.

/** Where headers go: a host's own set/append calls (Koa `ctx.set/append`, Fastify `reply.header`, Node `res.setHeader`). */
export interface HeaderTarget {
  set(name: string, value: string | string[]): void;
  appendCookie(value: string): void;
}

/**
 * ```ts
 * applyHeaders(response.headers, { set: (n, v) => ctx.set(n, v), appendCookie: (v) => ctx.append('Set-Cookie', v) });
 * ```
 */
export function applyHeaders(headers: ReadonlyArray<readonly [string, string]>, target: HeaderTarget): void {
  let repeated: Map<string, [string, string[]]> | null = null;
  for (let i = 0; i < headers.length; i++) {
    const [name, value] = headers[i]!;
    const key = name.toLowerCase();
    if (key === 'set-cookie') {
      target.appendCookie(value);
      continue;
    }
    let twice = false;
    for (let j = 0; j < i; j++) {
      if (headers[j]![0].length === name.length && headers[j]![0].toLowerCase() === key) {
        twice = true;
        break;
      }
    }
    if (!twice) {
      // Most names appear once: look ahead only when a later header shares the name.
      let again = false;
      for (let j = i + 1; j < headers.length; j++) {
        if (headers[j]![0].length === name.length && headers[j]![0].toLowerCase() === key) {
          again = true;
          break;
        }
      }
      if (!again) {
        target.set(name, value);
        continue;
      }
    }
    repeated ??= new Map();
    const entry = repeated.get(key);
    if (entry === undefined) repeated.set(key, [name, [value]]);
    else entry[1].push(value);
  }
  if (repeated !== null) for (const [name, values] of repeated.values()) target.set(name, values);
}

/** Whether the app gave a header of this (lowercase) name. */
export function hasHeader(headers: ReadonlyArray<readonly [string, string]>, lowerName: string): boolean {
  for (let i = 0; i < headers.length; i++) {
    const name = headers[i]![0];
    if (name.length === lowerName.length && name.toLowerCase() === lowerName) return true;
  }
  return false;
}
