// Route identities and the policy names derived from them.
import { hashCallerKey } from '../hash.js';
import type { Policy, PolicyTemplate } from '../policy.js';

/** The identity of a request that matched no route: never its URL. */
export const NO_ROUTE = '(no route)';

/**
 * The identity of a route: its method and pattern, `GET /items/:id`. HEAD shares GET's (a HEAD
 * request is a GET without the body). Adapters pass the pattern the router matched, never the
 * concrete URL.
 */
export function routeId(method: string, pattern: string): string {
  return `${method === 'HEAD' ? 'GET' : method} ${pattern}`;
}

/** The identity of middleware mounted on a path prefix, for every route and method under it: `USE /api`. */
export function mountId(pattern: string): string {
  return `USE ${pattern}`;
}

/** Which limiters have claimed each route's name, per application, in the order they did. */
const claims = new WeakMap<object, Map<string, object[]>>();
/** Routes recorded per application; past it (an adapter passing URLs), names are not made distinct. */
const MAX_CLAIMED_ROUTES = 10_000;

/**
 * The name a limiter's unnamed policies take on `route`: the route itself for the first limiter
 * that a request of the route reaches in `app`, then `GET /x (2)`, `GET /x (3)` for other
 * limiters on the same route. Two limiters never share buckets unless the user gives them the
 * same name. The order is the order requests pass them, which the app's registration fixes: the
 * same on every instance and after a restart. (A URL path has no spaces, so a suffixed name is
 * never another route's own.)
 */
export function claimRoute(app: object, route: string, limiter: object): string {
  let routes = claims.get(app);
  if (routes === undefined) {
    routes = new Map();
    claims.set(app, routes);
  }
  let owners = routes.get(route);
  if (owners === undefined) {
    if (routes.size >= MAX_CLAIMED_ROUTES) return route;
    owners = [];
    routes.set(route, owners);
  }
  let index = owners.indexOf(limiter);
  if (index === -1) index = owners.push(limiter) - 1;
  return index === 0 ? route : `${route} (${index + 1})`;
}

/** A route identity made safe as a policy name: printable ASCII, no quotes or braces, bounded. */
export function routePolicyName(route: string): string {
  let name = route
    .replace(/[^\x20-\x7e]|["\\]/g, '_')
    .replace(/\{/g, '(')
    .replace(/\}/g, ')');
  if (name.length === 0) name = '/';
  if (name.length > 120) name = `${name.slice(0, 97)}~${hashCallerKey(route)}`;
  return name;
}

/** The policies of a route: unnamed ones take the route's name (`#i` appended when there are several). */
export function nameForRoute(templates: readonly PolicyTemplate[], route: string): readonly Policy[] {
  const name = routePolicyName(route);
  return Object.freeze(
    templates.map((p, i) => (p.name !== undefined ? (p as Policy) : Object.freeze({ ...p, name: templates.length === 1 ? name : `${name}#${i}` }))),
  );
}
