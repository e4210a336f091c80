// Express middleware: the framework glue of core's adapter contract, and route patterns.
import type { Decision } from '@tokenbucket/core';
import { createHttpLimiter, onNodeResponseEnd, type AdapterOptions, type HttpAdapter } from '@tokenbucket/core/adapter';
import type { Request, RequestHandler, Response } from 'express';
import { rootApp, routeName } from './patterns.js';

/** `onLimited` in Express: answer the denied request yourself. */
export type OnLimited = (req: Request, res: Response, decision: Decision) => void | Promise<void>;

export interface RateLimitOptions extends AdapterOptions<Request, OnLimited> {}

const express: HttpAdapter<Request, Response, OnLimited> = {
  incoming: (req) => req,
  ip: (req) => req.ip,
  app: rootApp,
  headersSent: (res) => res.headersSent,
  setHeader: (res, name, value) => void res.setHeader(name, value),
  send(res, status, contentType, body) {
    // Written directly: res.send would also hash the body for an ETag, which a 429 never needs.
    res.statusCode = status;
    res.setHeader('Content-Type', contentType);
    res.setHeader('Content-Length', Buffer.byteLength(body));
    res.end(body);
  },
  callOnLimited: (onLimited, req, res, decision) => onLimited(req, res, decision),
  onResponseEnd: (_req, res, listener) => onNodeResponseEnd(res, listener),
};

/**
 * Rate-limiting middleware for one route (`app.get('/x', rateLimit(...), handler)`) or a group
 * (`app.use('/api', rateLimit(...))`). Throws a TokenBucketError for bad options; errors from
 * your functions go to `next(err)`.
 */
export function rateLimit(options: RateLimitOptions): RequestHandler {
  const limiter = createHttpLimiter(express, options);
  // The name of the last route and method seen: `routeName` depends on nothing else for one
  // middleware (its patterns are kept per route and per middleware), so a run of requests to one
  // route names it once.
  let lastRoute: unknown;
  let lastMethod = '';
  let lastName = '';
  const middleware: RequestHandler = (req, res, next) => {
    if (req.route !== lastRoute || req.method !== lastMethod || lastName === '') {
      lastName = routeName(req, middleware);
      lastRoute = req.route;
      lastMethod = req.method;
    }
    const go = limiter.handle(req, res, lastName);
    if (go === true) next();
    else if (go !== false) go.then((pass) => pass && next(), next);
  };
  return middleware;
}

export type { Decision } from '@tokenbucket/core';
