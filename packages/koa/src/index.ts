// Koa middleware: reads the context, asks the core engine, writes headers and the status.
import { createHttpLimiter, invalidOption, keyHeaders, type Decision, type HttpLimiterOptions } from '@tokenbucket/core';
import type { Context, Middleware } from 'koa';

export interface RateLimitOptions extends HttpLimiterOptions<Context> {
  /**
   * Answers a request denied by a policy, instead of the default 429 (or 413)
   * `application/problem+json` response. The rate-limit headers are already set.
   */
  onLimited?: (ctx: Context, decision: Decision) => void | Promise<void>;
}

/**
 * Rate-limiting middleware, for a route of @koa/router (`router.get('/x', rateLimit(...),
 * handler)`) or the whole app. Errors (from a `key` or `cost` function) propagate like any
 * middleware error, to Koa's error handling. Throws a TokenBucketError for bad options.
 */
export function rateLimit(options: RateLimitOptions): Middleware {
  const limiter = createHttpLimiter<Context>(options);
  const onLimited = options.onLimited;
  if (onLimited !== undefined && typeof onLimited !== 'function') invalidOption('onLimited', onLimited, 'a function');

  const middleware: Middleware = async (ctx, next) => {
    const outcome = await limiter.check(ctx, { route: routeOf(ctx, middleware), headers: keyHeaders(ctx.req), ip: ctx.ip });
    if (ctx.headerSent) return;
    for (const [name, value] of outcome.headers) ctx.set(name, value);
    if (outcome.action === 'pass') return next();
    if (outcome.action === 'limited' && onLimited !== undefined) return onLimited(ctx, outcome.decision);
    ctx.status = outcome.status;
    ctx.type = 'application/problem+json';
    ctx.body = outcome.bodyText;
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
 * `GET /items/:id` on a @koa/router route; `USE /api` on `router.use('/api', ...)`, one bucket
 * for every route and method under it; `USE /` as app-level middleware. Always the pattern the
 * router was given (prefixes of nested routers included), never the concrete URL.
 */
function routeOf(ctx: Context, middleware: Middleware): string {
  const matched = (ctx as Context & { matched?: Layer[] }).matched;
  const layer = matched?.find((l) => Array.isArray(l.stack) && l.stack.includes(middleware));
  if (layer === undefined || typeof layer.path !== 'string') return 'USE /';
  if (!Array.isArray(layer.methods) || layer.methods.length === 0) return `USE ${layer.path}`;
  return `${ctx.method === 'HEAD' ? 'GET' : ctx.method} ${layer.path}`;
}

export type { Decision } from '@tokenbucket/core';
