// Express middleware: reads the request, asks the core engine, writes headers and the status.
import { createHttpLimiter, invalidOption, type Decision, type HttpLimiterOptions } from '@tokenbucket/core';
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

  const respond = async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const outcome = await limiter.check(req, { route: routeOf(req), headers: req.headers, ip: req.ip });
    if (res.headersSent) return;
    for (const [name, value] of outcome.headers) res.setHeader(name, value);
    if (outcome.action === 'pass') return next();
    if (outcome.action === 'limited' && onLimited !== undefined) return onLimited(req, res, outcome.decision);
    res.status(outcome.status).type('application/problem+json').send(JSON.stringify(outcome.body));
  };
  return (req, res, next) => {
    respond(req, res, next).catch(next);
  };
}

/** `GET /items/:id` for a route; `USE /api` for middleware mounted with app.use. */
function routeOf(req: Request): string {
  const base = req.baseUrl;
  if (req.route === undefined) return `USE ${base || '/'}`;
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  return `${method} ${base}${String((req.route as { path: unknown }).path)}`;
}

export type { Decision } from '@tokenbucket/core';
