// Route patterns from Express's router (4 and 5), mounts included: buckets are named by pattern,
// never by the concrete URL (`req.baseUrl` is concrete: one bucket per user id, or per spelling).
import { mountId, routeId } from '@tokenbucket/core/adapter';
import type { Request, RequestHandler } from 'express';

/** A path given as a regular expression or an array, or one the router keeps no pattern of. */
const ANY = '*';

/**
 * The route identity of a request at `middleware`: `GET /users/:id/posts` when it runs in a
 * route, `USE /api` when it is mounted with `use`. Middleware Express runs through another
 * function (NestJS's MiddlewareConsumer wraps each one) cannot be found in the router: inside a
 * route it takes the route's identity, outside any route it is `USE *`.
 */
export function routeName(req: Request, middleware: RequestHandler): string {
  const route = req.route as Route | undefined;
  // req.route stays set after a route calls next(): only trust it when this middleware is in it.
  if (route?.stack?.some((layer) => layer.handle === middleware)) return routeId(req.method, routePattern(req, route));
  const mounted = mountPattern(req, middleware);
  if (mounted !== undefined) return mountId(mounted);
  return route !== undefined ? routeId(req.method, routePattern(req, route)) : mountId(ANY);
}

/** The parts of Express's router that name a layer's pattern. */
interface Layer {
  handle?: unknown;
  route?: Route;
  /** Express 5 (router 2): the path the layer was created with. */
  rawPath?: unknown;
  /** Express 4: only the regular expression compiled from the path, and its parameters. */
  regexp?: RegExp & { fast_slash?: boolean };
  keys?: { name?: unknown }[];
}
interface Route {
  path?: unknown;
  stack?: Layer[];
}
interface App {
  _router?: { stack?: Layer[] };
  router?: { stack?: Layer[] };
  mountpath?: unknown;
  parent?: App;
}

/** The full pattern of a route, e.g. `/users/:id/posts`, cached per route. */
const routePatterns = new WeakMap<Route, string>();

function routePattern(req: Request, route: Route): string {
  let pattern = routePatterns.get(route);
  if (pattern === undefined) {
    // A route the app's router does not hold (a router outside any app) is named by its own path.
    pattern = patternOf(req, (layer) => layer.route === route) ?? textOf(route.path);
    routePatterns.set(route, pattern);
  }
  return pattern;
}

/** The pattern `use(pattern, middleware)` mounted this middleware at, cached per middleware. */
const mountPatterns = new WeakMap<RequestHandler, string | null>();

function mountPattern(req: Request, middleware: RequestHandler): string | undefined {
  let pattern = mountPatterns.get(middleware);
  if (pattern === undefined) {
    pattern = patternOf(req, (layer) => layer.handle === middleware && layer.route === undefined) ?? null;
    mountPatterns.set(middleware, pattern);
  }
  return pattern ?? undefined;
}

/**
 * Walks the app's router, mounts included, to the layer `isTarget` picks, and joins the patterns
 * on the way: `app.use('/users/:id', router)` + `router.get('/posts')` = `/users/:id/posts`.
 * Undefined when the layer is not there.
 */
function patternOf(req: Request, isTarget: (layer: Layer) => boolean): string | undefined {
  const app = req.app as unknown as App | undefined;
  if (app === undefined) return undefined;
  const pattern = search(routerOf(app)?.stack, appPrefix(app), isTarget, 0);
  // `/search/` and `/search` are one route to Express (NestJS registers the former).
  return pattern !== undefined && pattern.length > 1 && pattern.endsWith('/') ? pattern.slice(0, -1) : pattern;
}

/** Where requests reach a router outside any Express app. */
const NO_APP = Object.freeze({});

/** The app a request is in; a sub-app's limiters are in its parent's (their names share its routes). */
export function rootApp(req: Request): object {
  let app = req.app as unknown as App | undefined;
  if (app === undefined) return NO_APP;
  while (app.parent !== undefined) app = app.parent;
  return app;
}

/** The app's router: `app._router` on Express 4 (where reading `app.router` throws), `app.router` on 5. */
function routerOf(app: App): { stack?: Layer[] } | undefined {
  if (app._router !== undefined) return app._router;
  try {
    return app.router;
  } catch {
    return undefined;
  }
}

/** Where a sub-app is mounted (`parent.use('/v1', app)`), its parents' mounts included. */
function appPrefix(app: App): string {
  let prefix = '';
  for (let a: App | undefined = app; a?.parent !== undefined; a = a.parent) prefix = join(textOf(a.mountpath), prefix);
  return prefix;
}

function search(stack: Layer[] | undefined, prefix: string, isTarget: (layer: Layer) => boolean, depth: number): string | undefined {
  if (!Array.isArray(stack) || depth > 32) return undefined;
  for (const layer of stack) {
    if (isTarget(layer)) return join(prefix, layer.route !== undefined ? textOf(layer.route.path) : mountPath(layer));
    const inner = (layer.handle as { stack?: Layer[] } | undefined)?.stack;
    if (layer.route === undefined && inner !== undefined) {
      const found = search(inner, join(prefix, mountPath(layer)), isTarget, depth + 1);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** A pattern as the user wrote it; a regular expression or an array is `*`. */
function textOf(path: unknown): string {
  return typeof path === 'string' ? path : ANY;
}

/** The path a mount layer was created with (`use('/users/:id', ...)`). */
function mountPath(layer: Layer): string {
  if (layer.rawPath !== undefined) return textOf(layer.rawPath); // Express 5
  const regexp = layer.regexp;
  if (regexp === undefined) return ANY;
  if (regexp.fast_slash === true) return '/'; // Express 4's use() without a path
  return recoverExpress4Path(layer, regexp) ?? ANY;
}

/**
 * Express 4's pattern for a parameter (with its slashes unescaped): `/:id`, `/:id?`, `.:format`,
 * `.:format?`; or one that follows a literal in its segment, as in `/v:major`.
 */
const PARAM = /\(\?:(\\\.)?(\/)?\(\[\^\/(?:\\\.)?\]\+\?\)\)(\?)?|\(\?:\(\(\?:\(\?!\/\|[^()]*\)\.\)\+\?\)\)(\?)?/g;
const LITERAL = /^[\w\-~/%@!$&',;=]*$/;

/**
 * Express 4's router keeps only the regular expression it compiled from a mount path (and the
 * parameters' names). A path of literal segments and plain `:params` is recovered from it, and
 * kept only if Express's own Layer compiles it back to the very same expression; anything else
 * (custom parameter patterns, wildcards) is undefined.
 */
function recoverExpress4Path(layer: Layer, regexp: RegExp): string | undefined {
  const body = /^\^(.*?)(?:\\\/\?)?\(\?=\\\/\|\$\)$/.exec(regexp.source)?.[1];
  if (body === undefined) return undefined;
  const keys = layer.keys ?? [];
  let k = 0;
  let unknownKey = false;
  const path = body.replace(/\\\//g, '/').replace(PARAM, (_m, dot?: string, slash?: string, optional?: string, inlineOptional?: string) => {
    const name = keys[k++]?.name;
    if (typeof name !== 'string') unknownKey = true;
    return `${dot === undefined ? '' : '.'}${slash ?? ''}:${String(name)}${optional ?? inlineOptional ?? ''}`;
  });
  // What is left once the parameters (a format's dot included) and the escaped literal dots are out.
  const literal = path.replace(/\.?:\w+\??/g, '').replace(/\\\./g, '');
  if (unknownKey || k !== keys.length || !LITERAL.test(literal)) return undefined;
  const candidate = path.replace(/\\\./g, '.') || '/';
  try {
    const Layer = (layer as { constructor: new (path: string, options: object, fn: () => void) => { regexp: RegExp } }).constructor;
    const again = new Layer(candidate, { sensitive: !regexp.flags.includes('i'), strict: false, end: false }, () => {}).regexp;
    return again.source === regexp.source && again.flags === regexp.flags ? candidate : undefined;
  } catch {
    return undefined;
  }
}

function join(prefix: string, path: string): string {
  if (prefix === '' || prefix === '/') return path;
  return path === '/' ? prefix : `${prefix}${path}`;
}
