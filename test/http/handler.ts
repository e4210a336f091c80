// What every harness's route handler does with a RouteSpec: wait `delayMs`, then answer `status`.
import type { RouteSpec } from './harness';

/** The handler's status and body for a route, after its delay. */
export async function routeAnswer(route: RouteSpec): Promise<{ status: number; body: { ok: boolean } }> {
  if (route.delayMs) await new Promise((resolve) => setTimeout(resolve, route.delayMs));
  const status = route.status ?? 200;
  return { status, body: { ok: status < 400 } };
}

/** A route's limiter options as a list (none, one, or several stacked). */
export const limitsOf = (route: RouteSpec): NonNullable<RouteSpec['limit']> & unknown[] =>
  (route.limit === undefined ? [] : Array.isArray(route.limit) ? route.limit : [route.limit]) as never;
