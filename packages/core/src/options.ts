// Limiter options as the user writes them, and their parsing into a validated, frozen config.
import { invalidOption, TokenBucketError, describeValue } from './errors.js';
import type { Store } from './store.js';

/** One token bucket per caller: `capacity` tokens, refilled continuously at `refillPerSecond`. */
export interface PolicyOptions {
  /**
   * The policy's name. It is part of the bucket's key: limiters whose policies share a name (on
   * the same store and prefix) share buckets, and different names never do. It also names the
   * policy in the `RateLimit` and `RateLimit-Policy` headers.
   * Printable ASCII without `"`, `\`, `{`, `}`; at most 128 characters.
   * @default 'default'
   */
  name?: string;
  /**
   * Bucket size: the most tokens a caller can hold, and so the largest burst. An integer >= 1.
   * A new caller's bucket starts full.
   */
  capacity: number;
  /**
   * Tokens added per second, continuously (a real number > 0, at most 1000000, and such that an
   * empty bucket fills within 1e9 seconds). `1000 / 86400` is "1000 a day".
   */
  refillPerSecond: number;
}

/** Options of `createLimiter`: one policy inline, or several in `policies`. */
export interface LimiterOptions extends Partial<PolicyOptions> {
  /**
   * Where buckets live. A `RedisStore` shares limits across every instance of the app; a
   * `MemoryStore` limits within one process.
   * @default a process-wide MemoryStore shared by every limiter created without a store
   */
  store?: Store;
  /**
   * Several policies checked together: a take is allowed only when every bucket holds the cost,
   * and then every bucket is debited (all or nothing). Give either `policies` or the inline
   * `capacity` / `refillPerSecond` / `name`, not both.
   */
  policies?: readonly PolicyOptions[];
}

/** A validated policy. */
export interface Policy {
  readonly name: string;
  readonly capacity: number;
  readonly refillPerSecond: number;
  /** Seconds an empty bucket takes to fill: the `w` of the `RateLimit-Policy` header. */
  readonly windowSeconds: number;
}

/** The longest time a bucket may take to fill, in microseconds (keeps Redis's arithmetic exact). */
const MAX_FILL_MICROSECONDS = 1e15;

const NAME_PATTERN = /^[\x20-\x7e]{1,128}$/;
const NAME_FORBIDDEN = /["\\{}]/;

/** Validates one policy; `path` is how the error names it (`''` or `'policies[2].'`). */
export function parsePolicy(input: unknown, path: string): Policy {
  if (typeof input !== 'object' || input === null) {
    invalidOption(path.replace(/\.$/, '') || 'policy', input, 'an object { name, capacity, refillPerSecond }');
  }
  const { name = 'default', capacity, refillPerSecond } = input as Partial<PolicyOptions>;
  if (typeof name !== 'string' || !NAME_PATTERN.test(name) || NAME_FORBIDDEN.test(name)) {
    invalidOption(`${path}name`, name, 'a string of 1 to 128 printable ASCII characters without ", \\, { or }');
  }
  if (typeof capacity !== 'number' || !Number.isSafeInteger(capacity) || capacity < 1) {
    invalidOption(`${path}capacity`, capacity, 'an integer >= 1 (the bucket size: the largest burst)');
  }
  if (typeof refillPerSecond !== 'number' || !Number.isFinite(refillPerSecond) || refillPerSecond <= 0) {
    invalidOption(
      `${path}refillPerSecond`,
      refillPerSecond,
      'a finite number > 0 (tokens added per second; 1000 / 86400 is 1000 a day)',
    );
  }
  if (refillPerSecond > 1e6) {
    invalidOption(`${path}refillPerSecond`, refillPerSecond, 'at most 1000000 (a token per microsecond)');
  }
  if (capacity * Math.ceil(1e6 / refillPerSecond) > MAX_FILL_MICROSECONDS) {
    invalidOption(
      `${path}refillPerSecond`,
      refillPerSecond,
      `fast enough that an empty bucket of ${capacity} fills within 1e9 seconds (about 31 years)`,
    );
  }
  return Object.freeze({
    name,
    capacity,
    refillPerSecond,
    windowSeconds: Math.max(1, Math.ceil(capacity / refillPerSecond)),
  });
}

/**
 * Validates the policy part of limiter options (inline or `policies`), throwing a
 * TokenBucketError that names the option and value.
 */
export function parsePolicies(options: LimiterOptions): readonly Policy[] {
  if (typeof options !== 'object' || options === null) {
    invalidOption('options', options, 'an object');
  }
  const { policies } = options;
  if (policies === undefined) {
    return Object.freeze([parsePolicy(options, '')]);
  }
  for (const inline of ['name', 'capacity', 'refillPerSecond'] as const) {
    if (options[inline] !== undefined) {
      throw new TokenBucketError(
        'INVALID_OPTION',
        `give either \`policies\` or the inline \`${inline}\`, not both; got ${inline}: ${describeValue(options[inline])} beside policies.`,
        inline,
      );
    }
  }
  if (!Array.isArray(policies) || policies.length === 0) {
    invalidOption('policies', policies, 'a non-empty array of { name, capacity, refillPerSecond }');
  }
  const parsed = policies.map((p: unknown, i: number) => parsePolicy(p, `policies[${i}].`));
  const seen = new Set<string>();
  parsed.forEach((p, i) => {
    if (seen.has(p.name)) {
      invalidOption(
        `policies[${i}].name`,
        p.name,
        'unique within the limiter (each policy needs its own name; the default name is "default")',
      );
    }
    seen.add(p.name);
  });
  return Object.freeze(parsed);
}

/**
 * Validates a take's cost: a finite number >= 0. A cost above a policy's capacity is valid: it
 * is denied with `retryAfterMs: Infinity` (see Decision).
 */
export function parseCost(cost: unknown): number {
  if (typeof cost !== 'number' || !Number.isFinite(cost) || cost < 0) {
    throw new TokenBucketError(
      'INVALID_COST',
      `option \`cost\` must be a finite number >= 0; got ${describeValue(cost)}.`,
      'cost',
    );
  }
  return cost;
}
