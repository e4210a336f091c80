// Fastify plugin: per-route `config.rateLimit` read in onRoute, and `fastify.rateLimit(opts)`.
import { createHttpLimiter, invalidOption, NO_ROUTE, routeId, type AdapterOptions, type Decision, type HttpAdapter } from '@tokenbucket/core';
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest, onRequestHookHandler, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';

/** `onLimited` in Fastify: answer the denied request yourself. */
export type OnLimited = (request: FastifyRequest, reply: FastifyReply, decision: Decision) => void | Promise<void>;

export interface RateLimitOptions extends AdapterOptions<FastifyRequest, OnLimited> {}

export interface TokenBucketPluginOptions extends RateLimitOptions {
  /**
   * Limit every route registered after the plugin with these options, unless its
   * `config.rateLimit` is `false`. When false, only routes with a `config.rateLimit` object (or
   * a `fastify.rateLimit(...)` hook) are limited.
   * @default false
   */
  global?: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** This route's rate-limit options, merged over the plugin's; `false` opts out. */
    rateLimit?: RateLimitOptions | false;
  }
  interface FastifyInstance {
    /** An onRequest hook that limits with these options merged over the plugin's. */
    rateLimit(options?: RateLimitOptions): onRequestHookHandler;
  }
}

const POLICY_FIELDS = ['name', 'capacity', 'refillPerSecond', 'policies'] as const;

/** Route options over plugin defaults; a route that sets any policy field replaces all of them. */
function merge(defaults: RateLimitOptions, route: RateLimitOptions): RateLimitOptions {
  if (typeof route !== 'object' || route === null) {
    invalidOption('config.rateLimit', route, 'an options object, or false to opt out');
  }
  const merged: Record<string, unknown> = { ...defaults };
  if (POLICY_FIELDS.some((field) => route[field] !== undefined)) {
    for (const field of POLICY_FIELDS) delete merged[field];
  }
  return Object.assign(merged, route) as RateLimitOptions;
}

const fastify: HttpAdapter<FastifyRequest, FastifyReply, OnLimited> = {
  incoming: (request) => request.raw,
  ip: (request) => request.ip,
  headersSent: (reply) => reply.sent,
  setHeader: (reply, name, value) => void reply.header(name, value),
  send: (reply, status, contentType, body) => void reply.code(status).type(contentType).send(body),
  callOnLimited: (onLimited, request, reply, decision) => onLimited(request, reply, decision),
};

/**
 * The onRequest hook for one set of options. `url` is the route's pattern when known at
 * registration; otherwise it is read from the request. Each method of a route has its own
 * bucket (HEAD shares GET's), as in the other adapters.
 */
function limitHook(options: RateLimitOptions, url?: string): onRequestHookHandler {
  const limiter = createHttpLimiter(fastify, options);
  return async function tokenBucketOnRequest(request: FastifyRequest, reply: FastifyReply) {
    // A request that matched no route (a 404) has no pattern: never name a bucket by its URL.
    const route = routeId(request.method, url ?? request.routeOptions.url ?? NO_ROUTE);
    if (!(await limiter.handle(request, reply, route))) return reply;
  };
}

const plugin: FastifyPluginCallback<TokenBucketPluginOptions> = (fastify: FastifyInstance, options, done) => {
  const { global = false, ...defaults } = options;
  if (typeof global !== 'boolean') invalidOption('global', global, 'true or false');

  fastify.decorate('rateLimit', (routeOptions: RateLimitOptions = {} as RateLimitOptions) => limitHook(merge(defaults as RateLimitOptions, routeOptions)));

  fastify.addHook('onRoute', (route: RouteOptions) => {
    const config = (route.config as { rateLimit?: RateLimitOptions | false } | undefined)?.rateLimit;
    if (config === false || (config === undefined && !global)) return;
    const hook = limitHook(merge(defaults as RateLimitOptions, config ?? {}), route.url);
    const existing = route.onRequest;
    route.onRequest = existing === undefined ? [hook] : [...(Array.isArray(existing) ? existing : [existing]), hook];
  });
  done();
};

/** The plugin: `await app.register(tokenBucket, { store, ...defaults })`. */
export const tokenBucket = fp(plugin, { fastify: '5.x', name: '@tokenbucket/fastify' });
export default tokenBucket;

export type { Decision } from '@tokenbucket/core';
