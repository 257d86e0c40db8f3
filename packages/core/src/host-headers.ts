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
  for (let i = 0; i < headers.length; i++) {
    const [name, value] = headers[i]!;
    const key = name.toLowerCase();
    if (key === 'set-cookie') {
      target.appendCookie(value);
      continue;
    }
    if (sameNameBefore(headers, i, key)) continue;
    // Most names appear once; a repeated one goes out with all its values where it first appears, so
    // the order of the app's headers is kept.
    let values: string[] | null = null;
    for (let j = i + 1; j < headers.length; j++) {
      const later = headers[j]!;
      if (later[0].length === name.length && later[0].toLowerCase() === key) (values ??= [value]).push(later[1]);
    }
    target.set(name, values ?? value);
  }
}

function sameNameBefore(headers: ReadonlyArray<readonly [string, string]>, i: number, key: string): boolean {
  for (let j = 0; j < i; j++) {
    const name = headers[j]![0];
    if (name.length === key.length && name.toLowerCase() === key) return true;
  }
  return false;
}

/** Whether the app gave a header of this (lowercase) name. */
export function hasHeader(headers: ReadonlyArray<readonly [string, string]>, lowerName: string): boolean {
  for (let i = 0; i < headers.length; i++) {
    const name = headers[i]![0];
    if (name.length === lowerName.length && name.toLowerCase() === lowerName) return true;
  }
  return false;
}
