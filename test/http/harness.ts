// What an adapter supplies to the shared HTTP suites, and what they hand back: types only, so
// every suite module and every adapter's test file can import them without importing each other.
import type { Server } from 'node:http';
import type { HttpLimiterOptions } from '@tokenbucket/core';

/** Adapter options as the suites write them; the harness hands them to its `rateLimit`. */
export type LimitOptions = HttpLimiterOptions<unknown> & { onLimited?: unknown };

export interface RouteSpec {
  method: 'GET' | 'POST';
  /** Pattern in the syntax the three frameworks share: `/items/:id`. */
  path: string;
  /** The route's limiter options (several: stacked on the route, in order); undefined for an unlimited route. */
  limit?: LimitOptions | LimitOptions[];
  /** The status the handler answers with, its body `{ ok: status < 400 }`. @default 200 */
  status?: number;
  /** Ms the handler waits before answering. @default 0 */
  delayMs?: number;
}

/**
 * A limiter for every route under a path prefix, which requests pass before the route's own
 * (Express `app.use(prefix, ...)`, Koa `router.use(prefix, ...)`, Fastify a hook in an
 * encapsulated context with that prefix).
 */
export interface GroupSpec {
  prefix: string;
  limit: LimitOptions;
}

export interface AppSpec {
  routes: RouteSpec[];
  /** Group limiters, mounted before the routes in this order. */
  groups?: GroupSpec[];
  /** Trust X-Forwarded-For for the client IP (each framework's own setting). */
  trustProxy?: boolean;
}

/** An app an adapter built, as supertest drives it: a Node HTTP server, not listening yet. */
export interface BuiltApp {
  /**
   * `http.createServer(app)` for Express, `app.server` after `await app.ready()` for Fastify,
   * `http.createServer(app.callback())` for Koa.
   */
  server: Server;
  /** Releases what the framework holds beside the server (Fastify's `app.close()`). */
  close?(): Promise<void>;
}

/** A built app listening on an ephemeral port of 127.0.0.1, for `request(app.server)`. */
export interface RunningApp {
  server: Server;
  /** Drops its connections, stops the server, and closes the framework's app. */
  close(): Promise<void>;
}

/**
 * What an adapter supplies. Handlers answer 200 `{ ok: true }`; the app's error handler answers
 * 500 `{ handledBy: 'framework', message }`, so the suites can tell errors reached it.
 */
export interface AdapterHarness {
  name: string;
  /** Builds the app; rejects when the limiter options are invalid. */
  build(spec: AppSpec): Promise<BuiltApp>;
  /** A request header, from the framework's request object (for key/cost/skip functions). */
  header(req: unknown, name: string): string | undefined;
  /** An `onLimited` for this framework that answers `status` with a JSON body `{ custom: true, policy }`. */
  onLimited(status: number): unknown;
}
