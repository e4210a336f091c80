// Hono middleware: the framework glue of core's adapter contract, route patterns, and the caller
// IP on Node.js, Bun and Deno.
import {
  createHttpLimiter,
  invalidOption,
  mountId,
  NO_ROUTE,
  onNodeResponseEnd,
  routeId,
  type AdapterOptions,
  type HttpAdapter,
  type NodeRequestHeaders,
  type NodeResponse,
  type RequestHeaders,
} from '@tokenbucket/core/adapter';
import type { Decision } from '@tokenbucket/core';
import type { Context, MiddlewareHandler } from 'hono';

/** `onLimited` in Hono: answer the denied request with a Response of your own (`c.json(...)`). */
export type OnLimited = (c: Context, decision: Decision) => Response | Promise<Response>;

export interface RateLimitOptions extends AdapterOptions<Context, OnLimited> {
  /**
   * The client IP, for a request without an API key (`missingKey: 'ip'`). Give it when the
   * default cannot see the connection (another runtime, a `fetch` wrapped by your own code) or
   * when a proxy in front of the app sets `X-Forwarded-For`, e.g. `(c) => getConnInfo(c).remote.address`
   * with `getConnInfo` from `hono/bun`, `hono/deno` or `@hono/node-server/conninfo`.
   * @default the peer address of the connection: on Node.js (@hono/node-server) the socket's
   * remote address, on Bun (`Bun.serve`, `export default app`) `server.requestIP(req)`, on Deno
   * (`Deno.serve`) `info.remoteAddr`; undefined elsewhere (every keyless caller then shares one bucket).
   */
  ip?: (c: Context) => string | undefined;
}

/** What `c.env` holds on each runtime when the app's `fetch` is served directly. */
interface RuntimeEnv {
  /** @hono/node-server: the Node request and response. */
  incoming?: NodeRequestHeaders & { socket?: { remoteAddress?: string } };
  outgoing?: NodeResponse;
  /** Bun: the server, `Bun.serve`'s second argument to `fetch`. */
  requestIP?(req: Request): { address?: string } | null;
  /** Deno: `Deno.serve`'s `ServeHandlerInfo`. */
  remoteAddr?: { hostname?: string };
}

const runtimeEnv = (c: Context): RuntimeEnv | undefined => {
  const env: unknown = c.env;
  return typeof env === 'object' && env !== null ? (env as RuntimeEnv) : undefined;
};

/** The peer address on Node.js, Bun and Deno, as each runtime hands its `fetch` the connection. */
function connectionIp(c: Context): string | undefined {
  const env = runtimeEnv(c);
  if (env === undefined) return undefined;
  if (env.incoming !== undefined) return env.incoming.socket?.remoteAddress;
  if (typeof env.requestIP === 'function') return env.requestIP(c.req.raw)?.address ?? undefined;
  return env.remoteAddr?.hostname;
}

/**
 * The key headers of a fetch `Request`: the runtime has joined a repeated header's lines with
 * ", " (RFC 9110 5.3), so a comma in `X-API-Key` or `Authorization` means several values, which
 * are ambiguous (see `apiKeyFromHeaders`). On @hono/node-server the Node request's raw lines are
 * read instead, as the Node adapters do.
 */
function fetchKeyHeaders(headers: Headers): NodeRequestHeaders {
  const list = (name: string): string | string[] | undefined => {
    const value = headers.get(name);
    return value === null || !value.includes(',') ? (value ?? undefined) : value.split(',');
  };
  const read: RequestHeaders = { 'x-api-key': list('x-api-key'), authorization: list('authorization') };
  return { headers: read };
}

/** The headers a limiter wrote on a request, put back on a Response that was built without them. */
const written = new WeakMap<Context, [string, string][]>();
/** Listeners of `onResponseEnd` not yet owned by a middleware run (off Node). */
const pendingEnds = new WeakMap<Context, ((status: number | undefined) => void)[]>();

function adapterFor(ip: (c: Context) => string | undefined): HttpAdapter<Context, Context, OnLimited> {
  return {
    optionNames: ['ip'],
    incoming(c) {
      const incoming = runtimeEnv(c)?.incoming;
      return incoming?.rawHeaders !== undefined ? incoming : fetchKeyHeaders(c.req.raw.headers);
    },
    ip,
    app: routeOwner,
    request: (c) => c.req.raw,
    headersSent: (c) => c.finalized,
    setHeader(c, name, value) {
      c.header(name, value);
      const list = written.get(c);
      if (list === undefined) written.set(c, [[name, value]]);
      else list.push([name, value]);
    },
    send(c, status, contentType, body) {
      // Any status core answers (429, 413, 401, 503): Hono's type lists them one by one.
      c.res = c.body(body, status as 429, { 'Content-Type': contentType });
    },
    async callOnLimited(onLimited, c, _c, decision) {
      const res = await onLimited(c, decision);
      if (res === undefined || res === null) invalidOption('onLimited', res, 'a function that returns a Response (`return c.json(...)`)');
      c.res = res;
    },
    onResponseEnd(c, _c, listener) {
      const outgoing = runtimeEnv(c)?.outgoing;
      if (outgoing !== undefined && typeof outgoing.once === 'function') return onNodeResponseEnd(outgoing, listener);
      const list = pendingEnds.get(c);
      if (list === undefined) pendingEnds.set(c, [listener]);
      else list.push(listener);
    },
  };
}

/**
 * Rate-limiting middleware, for a group (`app.use('/api/*', rateLimit(...))`) or one route
 * (`app.get('/x', rateLimit(...), handler)`). Errors from your functions (`key`, `cost`, `skip`,
 * `onLimited`) are thrown to Hono's error handling (`app.onError`). Throws a TokenBucketError
 * for bad options.
 */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler {
  const ip = options?.ip ?? connectionIp;
  if (typeof ip !== 'function') invalidOption('ip', ip, 'a function of the context that returns the client IP');
  const limiter = createHttpLimiter(adapterFor(ip), options);
  return async (c, next) => {
    let ends: ((status: number | undefined) => void)[] | undefined;
    try {
      const decided = limiter.handle(c, c, routeOf(c));
      const go = decided === true || (decided !== false && (await decided));
      // The listeners registered while this limiter decided are this run's: it ends after the rest.
      ends = takeEnds(c);
      if (go) await next();
    } catch (err) {
      // A fault of a user function, or what is not an Error from further down (Hono hands Errors
      // to app.onError before they reach here): Hono answers it with 500.
      for (const end of ends ?? takeEnds(c) ?? []) end(500);
      throw err;
    }
    restoreHeaders(c);
    if (ends !== undefined) {
      const status = c.req.raw.signal?.aborted === true ? undefined : c.res.status;
      for (const end of ends) end(status);
    }
  };
}

/** The `onResponseEnd` listeners registered on this request and not yet owned by a middleware run. */
function takeEnds(c: Context): ((status: number | undefined) => void)[] | undefined {
  const ends = pendingEnds.get(c);
  if (ends !== undefined) pendingEnds.delete(c);
  return ends;
}

/** Puts the limiter's headers on a Response the handler built itself (`new Response(...)`), which Hono gives none. */
function restoreHeaders(c: Context): void {
  const list = written.get(c);
  if (list === undefined) return;
  written.delete(c);
  const headers = c.res.headers;
  for (const [name, value] of list) if (!headers.has(name)) c.header(name, value);
}

/** The route a middleware runs as: its registration among the request's matched routes. */
interface MatchedRoute {
  method: string;
  path: string;
}

const matched = (c: Context): MatchedRoute[] => c.req.matchedRoutes as MatchedRoute[];

/**
 * `GET /items/:id` for a middleware on a route (`app.get`, `app.post`, `app.on`), HEAD sharing
 * GET's; `USE /api/*` for one registered for every method (`app.use('/api/*')`, `app.all`), one
 * bucket for every route and method below it (`USE /*` for `app.use(mw)`). Always the pattern
 * as registered, prefixes of `app.route()` and `basePath()` included, never the concrete URL.
 */
function routeOf(c: Context): string {
  const route = matched(c)[c.req.routeIndex];
  if (route === undefined) return NO_ROUTE;
  return route.method === 'ALL' ? mountId(route.path) : routeId(route.method, route.path);
}

/**
 * The "application" whose limiters on one route are told apart (`GET /x`, `GET /x (2)`): the
 * first registration with this route's method and pattern among the request's matched routes.
 * Every request of the route matches it, before any limiter of the route, and each Hono app has
 * its own (sub-apps mounted with `app.route()` are copied into the parent), so two apps in one
 * process name their limiters alike. Hono's context does not reach the app itself.
 */
const UNMATCHED = {};

function routeOwner(c: Context): object {
  const routes = matched(c);
  const self = routes[c.req.routeIndex];
  if (self === undefined) return UNMATCHED;
  return routes.find((r) => r.method === self.method && r.path === self.path) ?? self;
}

export type { Decision } from '@tokenbucket/core';
