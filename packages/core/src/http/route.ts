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
