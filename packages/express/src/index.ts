// Express middleware: reads the request, asks the core engine, writes headers and the status.
import { createHttpLimiter, invalidOption, keyHeaders, type Decision, type HttpLimiterOptions } from '@tokenbucket/core';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

export interface RateLimitOptions extends HttpLimiterOptions<Request> {
  /**
   * Answers a request denied by a policy, instead of the default 429 (or 413)
   * `application/problem+json` response. The rate-limit headers are already set.
   */
  onLimited?: (req: Request, res: Response, decision: Decision) => void | Promise<void>;
}

/**
 * Rate-limiting middleware for one route (`app.get('/x', rateLimit(...), handler)`) or a group
 * (`app.use('/api', rateLimit(...))`). Throws a TokenBucketError for bad options.
 */
export function rateLimit(options: RateLimitOptions): RequestHandler {
  const limiter = createHttpLimiter<Request>(options);
  const onLimited = options.onLimited;
  if (onLimited !== undefined && typeof onLimited !== 'function') invalidOption('onLimited', onLimited, 'a function');
  let mountPattern: string | null | undefined; // for app.use: looked up once; null when not found

  const respond = async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    let route: string;
    if (req.route === undefined) {
      mountPattern ??= patternOf(req, (layer) => layer.handle === middleware && layer.route === undefined) ?? null;
      route = `USE ${mountPattern ?? (req.baseUrl || '/')}`;
    } else {
      route = `${req.method === 'HEAD' ? 'GET' : req.method} ${routePattern(req)}`;
    }
    const outcome = await limiter.check(req, { route, headers: keyHeaders(req), ip: req.ip });
    if (res.headersSent) return;
    for (const [name, value] of outcome.headers) res.setHeader(name, value);
    if (outcome.action === 'pass') return next();
    if (outcome.action === 'limited' && onLimited !== undefined) return onLimited(req, res, outcome.decision);
    // Written directly: res.send would also hash the body for an ETag, which a 429 never needs.
    const body = outcome.bodyText;
    res.statusCode = outcome.status;
    res.setHeader('Content-Type', 'application/problem+json; charset=utf-8');
    res.setHeader('Content-Length', Buffer.byteLength(body));
    res.end(body);
  };
  const middleware: RequestHandler = (req, res, next) => {
    respond(req, res, next).catch(next);
  };
  return middleware;
}

/** The full pattern of the matched route, e.g. `/users/:id/posts`, cached per route. */
const routePatterns = new WeakMap<object, string>();
function routePattern(req: Request): string {
  const route = req.route as { path: unknown };
  let pattern = routePatterns.get(route);
  if (pattern === undefined) {
    pattern = patternOf(req, (layer) => layer.route === route);
    // Without patterns (Express 4) the mount path is the concrete one: not cached.
    if (pattern === undefined) return `${req.baseUrl}${String(route.path)}`;
    routePatterns.set(route, pattern);
  }
  return pattern;
}

/** The parts of Express's router that name a layer's pattern (Express 5's router keeps them). */
interface Layer {
  handle?: unknown;
  route?: { path?: unknown };
  rawPath?: unknown;
}

/**
 * Walks the app's router, mounts included, to the layer `isTarget` picks, and joins the patterns
 * on the way: `app.use('/users/:id', router)` + `router.get('/posts')` = `/users/:id/posts`.
 * A bucket must be named after the pattern, never the concrete URL (`req.baseUrl` is concrete),
 * or every user id would get its own bucket. Undefined when the router does not keep patterns.
 */
function patternOf(req: Request, isTarget: (layer: Layer) => boolean): string | undefined {
  const app = req.app as unknown as { router?: { stack?: Layer[] }; mountpath?: unknown; parent?: unknown };
  const base = app.parent !== undefined && typeof app.mountpath === 'string' ? app.mountpath : '';
  return search(app.router?.stack, base, isTarget, 0);
}

function search(stack: Layer[] | undefined, prefix: string, isTarget: (layer: Layer) => boolean, depth: number): string | undefined {
  if (!Array.isArray(stack) || depth > 32) return undefined;
  for (const layer of stack) {
    const path = layer.route !== undefined ? layer.route.path : layer.rawPath;
    if (typeof path !== 'string') continue;
    if (isTarget(layer)) return join(prefix, path);
    const inner = (layer.handle as { stack?: Layer[] } | undefined)?.stack;
    if (layer.route === undefined && inner !== undefined) {
      const found = search(inner, join(prefix, path), isTarget, depth + 1);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function join(prefix: string, path: string): string {
  if (prefix === '' || prefix === '/') return path;
  return path === '/' ? prefix : `${prefix}${path}`;
}

export type { Decision } from '@tokenbucket/core';
