// A round trip adds no layers (as srvx does): `toNodeListener(fromNodeListener(l))` is `l` itself,
// and `fromNodeListener(toNodeListener(app))` is `app`. Each side marks what it wraps.
import type { App } from './types.js';

const kWrappedListener = Symbol.for('node-wsgi.wrappedListener');
const kWrappedApp = Symbol.for('node-wsgi.wrappedApp');

type Marked<T> = T & { [kWrappedListener]?: unknown; [kWrappedApp]?: unknown };

/** Marks an app made from a listener. */
export function markListenerApp<T extends App>(app: T, listener: unknown): T {
  (app as Marked<T>)[kWrappedListener] = listener;
  return app;
}

/** Marks a listener made from an app. */
export function markAppListener<T extends object>(listener: T, app: App): T {
  (listener as Marked<T>)[kWrappedApp] = app;
  return listener;
}

/** The listener an app wraps, if it is only a wrapped listener. */
export function wrappedListener(app: unknown): unknown {
  return typeof app === 'function' ? (app as Marked<App>)[kWrappedListener] : undefined;
}

/** The app a listener wraps, if it is only a wrapped app. */
export function wrappedApp(listener: unknown): App | undefined {
  return typeof listener === 'function' ? ((listener as Marked<object>)[kWrappedApp] as App | undefined) : undefined;
}
