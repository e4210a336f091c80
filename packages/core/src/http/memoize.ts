// memoizePolicies: a per-caller policy lookup (a plan from a database), cached.
import { invalidOption } from '../errors.js';
import { checkOptionNames, optionNames } from '../option-names.js';
import type { PolicyOptions } from '../policy.js';

type MaybePromise<T> = T | Promise<T>;

/** The options of `memoizePolicies`. */
export interface MemoizeOptions {
  /** How long a caller's policies are kept, in ms. @default 60000 */
  ttlMs?: number;
  /** Most callers kept. @default 10000 */
  maxKeys?: number;
}

const MEMOIZE_OPTIONS = optionNames<MemoizeOptions>({ ttlMs: 1, maxKeys: 1 });

/**
 * Caches a per-caller policy lookup (a plan read from a database, say) for `ttlMs`, keeping at
 * most `maxKeys` callers. Returns a function for the `policies` option.
 */
export function memoizePolicies<Req>(
  lookup: (key: string, req: Req) => MaybePromise<readonly PolicyOptions[]>,
  options: MemoizeOptions = {},
): (key: string, req: Req) => MaybePromise<readonly PolicyOptions[]> {
  if (typeof options !== 'object' || options === null) invalidOption('options', options, 'an object { ttlMs, maxKeys }');
  checkOptionNames(options, MEMOIZE_OPTIONS);
  const { ttlMs = 60_000, maxKeys = 10_000 } = options;
  if (typeof lookup !== 'function') invalidOption('lookup', lookup, 'a function (key, req) => policies');
  if (!(typeof ttlMs === 'number' && ttlMs > 0 && Number.isFinite(ttlMs))) invalidOption('ttlMs', ttlMs, 'a finite number > 0');
  if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) invalidOption('maxKeys', maxKeys, 'an integer >= 1');
  const cache = new Map<string, { at: number; value: Promise<readonly PolicyOptions[]> }>();
  return (key, req) => {
    const now = performance.now();
    const hit = cache.get(key);
    if (hit !== undefined && now - hit.at < ttlMs) return hit.value;
    const value = Promise.resolve(lookup(key, req));
    value.catch(() => cache.delete(key)); // a failed lookup is not cached
    cache.delete(key);
    if (cache.size >= maxKeys) cache.delete(cache.keys().next().value!);
    cache.set(key, { at: now, value });
    return value;
  };
}
