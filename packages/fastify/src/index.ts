// Fastify plugin: per-route `config.rateLimit` read in onRoute, and `fastify.rateLimit(opts)`.
import {
  ADAPTER_OPTION_NAMES,
  addErrorContext,
  checkOptionNames,
  createHttpLimiter,
  emitTokenBucketWarning,
  invalidOption,
  NO_ROUTE,
  onNodeResponseEnd,
  routeId,
  type AdapterOptions,
  type HttpAdapter,
} from '@tokenbucket/core/adapter';
import { type Decision, TokenBucketError } from '@tokenbucket/core';
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { subscribe } from 'node:diagnostics_channel';

/** `onLimited` in Fastify: answer the denied request yourself. */
export type OnLimited = (request: FastifyRequest, reply: FastifyReply, decision: Decision) => void | Promise<void>;

export interface RateLimitOptions extends AdapterOptions<FastifyRequest, OnLimited> {}

/** The request hooks a limit can run in, earliest first. */
export type LimitHook = 'onRequest' | 'preParsing' | 'preValidation' | 'preHandler';

/** Options of a route's `config.rateLimit`. */
export interface RouteRateLimitOptions extends RateLimitOptions {
  /**
   * The request hook the limit runs in. `'onRequest'` limits before anything else is done for
   * the request (the body is not read); `'preHandler'` runs after your authentication hooks, so
   * that `key` can read what they set (`key: (request) => request.user?.id`). `'preParsing'` and
   * `'preValidation'` are the steps between (the body is parsed by `preValidation`).
   * @default 'onRequest' (or the plugin's `hook`)
   */
  hook?: LimitHook;
}

export interface TokenBucketPluginOptions extends RouteRateLimitOptions {
  /**
   * Limit every route registered after the plugin with these options, unless its
   * `config.rateLimit` is `false`. When false, only routes with a `config.rateLimit` object (or
   * a `fastify.rateLimit(...)` hook) are limited.
   * @default false
   */
  global?: boolean;
}

/** A request hook that limits; usable as `onRequest`, `preParsing`, `preValidation` or `preHandler`. */
export type RateLimitHook = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** This route's rate-limit options, merged over the plugin's; `false` opts out. */
    rateLimit?: RouteRateLimitOptions | false;
  }
  interface FastifyInstance {
    /**
     * A request hook that limits with these options merged over the plugin's, to add to any
     * request hook yourself: `{ onRequest: app.rateLimit(...) }`, or after your authentication,
     * `{ preHandler: [authenticate, app.rateLimit(...)] }`.
     */
    rateLimit(options?: RateLimitOptions): RateLimitHook;
  }
}

const HOOKS: readonly LimitHook[] = ['onRequest', 'preParsing', 'preValidation', 'preHandler'];
const POLICY_FIELDS = ['name', 'capacity', 'refillPerSecond', 'policies'] as const;
const ROUTE_OPTION_NAMES: readonly string[] = [...ADAPTER_OPTION_NAMES, 'hook'];
const PLUGIN_OPTION_NAMES: readonly string[] = [...ROUTE_OPTION_NAMES, 'global'];

function parseHook(hook: unknown, option: string): LimitHook {
  if (!HOOKS.includes(hook as LimitHook)) invalidOption(option, hook, `one of ${HOOKS.map((h) => `'${h}'`).join(', ')}`);
  return hook as LimitHook;
}

/** Route options over plugin defaults; a route that sets any policy field replaces all of them. */
function merge(defaults: RateLimitOptions, route: RateLimitOptions): RateLimitOptions {
  const merged: Record<string, unknown> = { ...defaults };
  if (POLICY_FIELDS.some((field) => route[field] !== undefined)) {
    for (const field of POLICY_FIELDS) delete merged[field];
  }
  return Object.assign(merged, route) as RateLimitOptions;
}

/** The names of the headers a limiter writes, in lower case. */
const LOWER_CASE_NAMES: ReadonlyMap<string, string> = new Map(
  ['RateLimit-Policy', 'RateLimit', 'Retry-After', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'WWW-Authenticate'].map((name) => [
    name,
    name.toLowerCase(),
  ]),
);

const fastify: HttpAdapter<FastifyRequest, FastifyReply, OnLimited> = {
  optionNames: ['hook'],
  incoming: (request) => request.raw,
  ip: (request) => request.ip,
  app: (request) => request.server,
  headersSent: (reply) => reply.sent,
  // Fastify keeps header names in lower case: given so, it has none to make per request.
  setHeader: (reply, name, value) => void reply.header(LOWER_CASE_NAMES.get(name) ?? name, value),
  send: (reply, status, contentType, body) => void reply.code(status).type(contentType).send(body),
  callOnLimited: (onLimited, request, reply, decision) => onLimited(request, reply, decision),
  onResponseEnd: (_request, reply, listener) => onNodeResponseEnd(reply.raw, listener),
};

/** A request that matched no route (a 404) has no pattern: never name a bucket by its URL. */
const routeOf = (request: FastifyRequest, url: string | undefined): string => routeId(request.method, url ?? request.routeOptions.url ?? NO_ROUTE);

/** The hook `fastify.rateLimit(...)` returns, for any request hook: an async function. */
function limitHook(options: RateLimitOptions): RateLimitHook {
  const limiter = createHttpLimiter(fastify, options);
  return async function tokenBucketHook(request: FastifyRequest, reply: FastifyReply) {
    return (await limiter.handle(request, reply, routeOf(request, undefined))) ? undefined : reply;
  };
}

type Done = (err?: Error) => void;

/**
 * The hook `config.rateLimit` installs in the route's `name` hook, for `url`, the route's
 * pattern. Callback style, so that a decision made without waiting (a remembered denial, a
 * MemoryStore) continues in the same turn instead of through a promise. Each method of a route
 * has its own bucket (HEAD shares GET's), as in the other adapters.
 */
function routeHook(options: RateLimitOptions, url: string, name: LimitHook): unknown {
  const limiter = createHttpLimiter(fastify, options);
  // The route's identity for the last method seen: made once, not per request.
  let method = '';
  let route = '';
  const run = (request: FastifyRequest, reply: FastifyReply, done: Done): void => {
    if (request.method !== method) {
      method = request.method;
      route = routeOf(request, url);
    }
    const go = limiter.handle(request, reply, route);
    // Not going on (the request was answered): Fastify is told nothing more, as after `reply.send` in a hook.
    if (go === true) done();
    else if (go !== false) go.then((pass) => pass && done(), done);
  };
  if (name !== 'preParsing') return run;
  // preParsing hooks receive the body stream and hand it on.
  return (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: Error | null, payload?: unknown) => void): void =>
    run(request, reply, (err) => done(err ?? null, payload));
}

/** A route as Fastify registered it, before any plugin of ours could hook it. */
interface SeenRoute {
  /** The instance (encapsulation context) the route was registered in. */
  readonly instance: object;
  readonly method: string;
  readonly url: string;
  readonly rateLimit: unknown;
}

/**
 * Every route of every Fastify instance created after this module was loaded, by the instance
 * Fastify() returned. The plugin limits routes from an onRoute hook, which sees only routes
 * registered after it is set up: a route declared earlier (before `await app.register(...)`, or
 * in a plugin registered before it) is silently unlimited. Fastify has no list of its routes, but
 * publishes each new instance on `fastify.initialization`; an onRoute hook added there sees every
 * route, and the plugin, once set up, warns about those it came too late for. Only names are
 * kept, and only for the instance's lifetime.
 */
const seen = new WeakMap<object, SeenRoute[]>();
subscribe('fastify.initialization', (message) => {
  const instance = (message as { fastify?: FastifyInstance }).fastify;
  if (instance === undefined || typeof instance.addHook !== 'function') return;
  const routes: SeenRoute[] = [];
  seen.set(instance, routes);
  instance.addHook('onRoute', function recordRoute(this: object, route: RouteOptions) {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const rateLimit = (route.config as { rateLimit?: unknown } | undefined)?.rateLimit;
    for (const method of methods) routes.push({ instance: this, method, url: route.url, rateLimit });
  });
});

/**
 * The routes of `fastify` (and of the contexts inside it) registered before the plugin was set up
 * there that it would have limited: each with a `config.rateLimit` object, or any but those with
 * `false` in global mode. The HEAD route Fastify adds for a GET route is not named again.
 */
function routesBeforePlugin(fastify: FastifyInstance, global: boolean): string[] {
  let root: object | null = fastify;
  while (root !== null && !seen.has(root)) root = Object.getPrototypeOf(root);
  if (root === null) return [];
  const routes = seen
    .get(root)!
    .filter(
      (r) =>
        (r.instance === fastify || Object.prototype.isPrototypeOf.call(fastify, r.instance)) &&
        (global ? r.rateLimit !== false : typeof r.rateLimit === 'object' && r.rateLimit !== null),
    );
  const gets = new Set(routes.filter((r) => r.method === 'GET').map((r) => r.url));
  return [...new Set(routes.filter((r) => r.method !== 'HEAD' || !gets.has(r.url)).map((r) => `${r.method} ${r.url}`))];
}

const plugin: FastifyPluginCallback<TokenBucketPluginOptions> = (fastify, options, done) => {
  try {
    setup(fastify, options);
  } catch (err) {
    // Bad options fail the registration: `await app.register(...)` rejects with the error.
    done(err as Error);
    return;
  }
  done();
};

function setup(fastify: FastifyInstance, options: TokenBucketPluginOptions): void {
  checkOptionNames(options, PLUGIN_OPTION_NAMES);
  const { global = false, hook = 'onRequest', ...defaults } = options;
  if (typeof global !== 'boolean') invalidOption('global', global, 'true or false');
  const defaultHook = parseHook(hook, 'hook');
  const early = routesBeforePlugin(fastify, global);
  if (early.length > 0) {
    emitTokenBucketWarning(
      'TB_WARN_FASTIFY_ROUTE_BEFORE_PLUGIN',
      `tokenbucket: ${early.join(', ')} ${early.length === 1 ? 'was' : 'were'} registered before @tokenbucket/fastify, so ${early.length === 1 ? 'it is' : 'they are'} not rate limited ` +
        '(the plugin limits the routes registered after it). Register the plugin first: `await app.register(tokenBucket, ...)` before declaring routes, ' +
        'or before registering the plugins that declare them.',
    );
  }

  fastify.decorate('rateLimit', (routeOptions: RateLimitOptions = {}) => {
    if (typeof routeOptions !== 'object' || routeOptions === null) invalidOption('options', routeOptions, 'an options object');
    if ('hook' in routeOptions) {
      invalidOption('hook', (routeOptions as RouteRateLimitOptions).hook, 'left out: the hook this returns runs where you add it');
    }
    return limitHook(merge(defaults, routeOptions));
  });

  // One hook per route options and URL: the HEAD route Fastify adds for a GET route reuses the
  // GET route's hook (one limiter, so HEAD shares GET's bucket as in the other adapters).
  const hooks = new WeakMap<object, Map<string, unknown>>();
  fastify.addHook('onRoute', (route: RouteOptions) => {
    try {
      limitRoute(route);
    } catch (err) {
      // Thrown by `app.get(...)`, far from the plugin: say which route's options are at fault.
      if (err instanceof TokenBucketError) {
        addErrorContext(err, `(config.rateLimit of route ${Array.isArray(route.method) ? route.method.join(', ') : route.method} ${route.url})`);
      }
      throw err;
    }
  });

  function limitRoute(route: RouteOptions): void {
    const config = (route.config as { rateLimit?: unknown } | undefined)?.rateLimit;
    if (config === false || (config === undefined && !global)) return;
    if (config !== undefined && (typeof config !== 'object' || config === null)) {
      invalidOption('config.rateLimit', config, 'an options object, or false to opt out');
    }
    const own = (config ?? {}) as RouteRateLimitOptions;
    checkOptionNames(own, ROUTE_OPTION_NAMES, 'config.rateLimit.');
    const name = own.hook === undefined ? defaultHook : parseHook(own.hook, 'config.rateLimit.hook');
    const byUrl = hooks.get(config ?? defaults) ?? new Map<string, unknown>();
    hooks.set(config ?? defaults, byUrl);
    let handler = byUrl.get(route.url);
    if (handler === undefined) {
      handler = routeHook(merge(defaults, own), route.url, name);
      byUrl.set(route.url, handler);
    }
    const existing = route[name] as unknown;
    route[name] = (existing === undefined ? [handler] : [...(Array.isArray(existing) ? existing : [existing]), handler]) as never;
  }
}

/** The plugin: `await app.register(tokenBucket, { store, ...defaults })`. */
export const tokenBucket = fp(plugin, { fastify: '5.x', name: '@tokenbucket/fastify' });
export default tokenBucket;

export type { Decision } from '@tokenbucket/core';
