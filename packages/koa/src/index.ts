// Koa middleware: the framework glue of core's adapter contract, and route patterns.
import type { Decision } from '@tokenbucket/core';
import { createHttpLimiter, mountId, onNodeResponseEnd, routeId, type AdapterOptions, type HttpAdapter } from '@tokenbucket/core/adapter';
import type { Context, Middleware } from 'koa';

/** `onLimited` in Koa: answer the denied request yourself (Koa has one context for both). */
export type OnLimited = (ctx: Context, decision: Decision) => void | Promise<void>;

export interface RateLimitOptions extends AdapterOptions<Context, OnLimited> {}

const koa: HttpAdapter<Context, Context, OnLimited> = {
  incoming: (ctx) => ctx.req,
  ip: (ctx) => ctx.ip,
  app: (ctx) => ctx.app,
  headersSent: (ctx) => ctx.headerSent,
  setHeader: (ctx, name, value) => ctx.set(name, value),
  send(ctx, status, contentType, body) {
    ctx.status = status;
    ctx.type = contentType;
    ctx.body = body;
  },
  callOnLimited: (onLimited, ctx, _ctx, decision) => onLimited(ctx, decision),
  onResponseEnd: (ctx, _ctx, listener) => onNodeResponseEnd(ctx.res, listener),
};

/**
 * Rate-limiting middleware, for a route of @koa/router (`router.get('/x', rateLimit(...),
 * handler)`) or the whole app. Errors (from a `key` or `cost` function) propagate like any
 * middleware error, to Koa's error handling. Throws a TokenBucketError for bad options.
 */
export function rateLimit(options: RateLimitOptions): Middleware {
  const limiter = createHttpLimiter(koa, options);
  // Not async: a decision made without waiting goes on to `next` in the same turn, with no
  // promise of its own (koa-compose takes a plain return).
  const middleware: Middleware = (ctx, next) => {
    const go = limiter.handle(ctx, ctx, routeOf(ctx, middleware));
    if (go === true) return next();
    if (go === false) return undefined;
    return go.then((pass) => (pass ? next() : undefined));
  };
  return middleware;
}

/** The parts of a @koa/router layer that name it. */
interface Layer {
  path?: unknown;
  methods?: unknown[];
  stack?: unknown[];
}

/**
 * What @koa/router appends to a router's prefix for `router.use(middleware)` without a path: its
 * internal pattern for "anything below", which differs between its majors (`([^/]*)` in 12 to 14,
 * `(?:\/|$)` in 15, and `{/*rest}` in 15 for a nested router). Never part of a name.
 */
const NO_PATH = /(?:\(\[\^\/\]\*\)|\(\?:\\\/\|\$\)|\{\/\*rest\})$/;

/** A `use` layer's name, made once per layer rather than per request. */
const mountNames = new WeakMap<Layer, string>();

/**
 * `GET /items/:id` on a @koa/router route; `USE /api` on `router.use('/api', ...)`, one bucket
 * for every route and method under it; `router.use(...)` without a path is named by the router's
 * prefix (`USE /` at the root); `USE /` as app-level middleware. Always the pattern the router was
 * given (prefixes of nested routers included), never the concrete URL, the same on every
 * @koa/router major.
 */
/** A route's name per layer and method, made once (`routeId` builds a new string), with the path it was made from. */
const routeNames = new WeakMap<Layer, Map<string, { readonly path: string; readonly name: string }>>();

function routeOf(ctx: Context, middleware: Middleware): string {
  const matched = (ctx as Context & { matched?: Layer[] }).matched;
  let layer: Layer | undefined;
  if (matched !== undefined) {
    for (let i = 0; i < matched.length && layer === undefined; i++) {
      const l = matched[i]!;
      if (Array.isArray(l.stack) && l.stack.includes(middleware)) layer = l;
    }
  }
  if (layer === undefined || typeof layer.path !== 'string') return mountId('/');
  if (Array.isArray(layer.methods) && layer.methods.length > 0) {
    let byMethod = routeNames.get(layer);
    if (byMethod === undefined) {
      byMethod = new Map();
      routeNames.set(layer, byMethod);
    }
    const known = byMethod.get(ctx.method);
    if (known !== undefined && known.path === layer.path) return known.name;
    const name = routeId(ctx.method, layer.path);
    // Methods are few: the bound only guards against a client's made-up ones.
    if (known !== undefined || byMethod.size < 64) byMethod.set(ctx.method, { path: layer.path, name });
    return name;
  }
  let name = mountNames.get(layer);
  if (name === undefined) {
    name = mountId(layer.path.replace(NO_PATH, '') || '/');
    mountNames.set(layer, name);
  }
  return name;
}

export type { Decision } from '@tokenbucket/core';
