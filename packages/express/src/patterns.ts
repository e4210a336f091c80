// Route patterns from Express's router, mounts included: buckets are named by pattern, never by URL.
import type { Request, RequestHandler } from 'express';

/** The full pattern of the matched route, e.g. `/users/:id/posts`, cached per route. */
const routePatterns = new WeakMap<object, string>();

export function routePattern(req: Request): string {
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

/** The pattern `app.use(pattern, middleware)` mounted this middleware at, cached per middleware. */
const mountPatterns = new WeakMap<RequestHandler, string | null>();

export function mountPattern(req: Request, middleware: RequestHandler): string {
  let pattern = mountPatterns.get(middleware);
  if (pattern === undefined) {
    pattern = patternOf(req, (layer) => layer.handle === middleware && layer.route === undefined) ?? null;
    mountPatterns.set(middleware, pattern);
  }
  return pattern ?? (req.baseUrl || '/');
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
