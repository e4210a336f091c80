// Policies as the user writes them, their validation into frozen Policy objects, and the cost.
import { describeValue, invalidOption, TokenBucketError } from './errors.js';
import { checkOptionNames, optionNames } from './option-names.js';

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
   * empty bucket fills within 1e9 seconds; above 1000 a second, within 1e6 seconds, about 11.6
   * days). `1000 / 86400` is "1000 a day". Redis keeps the rate within 0.1%, never above it.
   */
  refillPerSecond: number;
}

/** A validated policy. */
export interface Policy {
  readonly name: string;
  readonly capacity: number;
  readonly refillPerSecond: number;
  /** Seconds an empty bucket takes to fill: the `w` of the `RateLimit-Policy` header. */
  readonly windowSeconds: number;
}

/** A validated policy whose name may still be missing (the HTTP layer names it after the route). */
export type PolicyTemplate = Omit<Policy, 'name'> & { readonly name: string | undefined };

/**
 * Most policies one limiter (or one answer of a policies function) may have. Each is a member of
 * the `RateLimit` and `RateLimit-Policy` headers and a key read in one atomic step: 32 keeps both
 * headers near 2 KB, well under the 8 KB that common proxies accept for all headers.
 */
export const MAX_POLICIES = 32;

/** The longest time a bucket may take to fill, in the script's unit (keeps Redis's arithmetic exact). */
const MAX_FILL_UNITS = 1e15;

const POLICY_OPTIONS = optionNames<PolicyOptions>({ name: 1, capacity: 1, refillPerSecond: 1 });

const NAME_PATTERN = /^[\x20-\x7e]{1,128}$/;
const NAME_FORBIDDEN = /["\\{}]/;

/** Above this many tokens a second, whole microseconds per token could miss the rate by more than 0.1%. */
const FINE_RATE = 1000;

/**
 * The unit the store's script counts a policy's time in, as fractions of a microsecond: 1000
 * (nanoseconds) above 1000 tokens a second, else 1 (microseconds).
 */
export function timeScale(refillPerSecond: number): 1 | 1000 {
  return refillPerSecond > FINE_RATE ? 1000 : 1;
}

/**
 * The time one token takes to refill in the script's unit (`timeScale`), rounded up to a whole
 * unit so that bucket arithmetic in whole units stays exact: the effective rate is never above
 * the policy's, and within 0.1% of it (at least 1000 units a token), at any rate allowed.
 */
export function tokenInterval(refillPerSecond: number): number {
  return Math.ceil((1e6 * timeScale(refillPerSecond)) / refillPerSecond);
}

/** Whether `name` may name a policy (it becomes part of a Redis key and of a header). */
export function isPolicyName(name: unknown): name is string {
  return typeof name === 'string' && NAME_PATTERN.test(name) && !NAME_FORBIDDEN.test(name);
}

/**
 * Validates one policy; `path` is how errors name it (`''` or `'policies[2].'`). With
 * `unnamed: 'allowed'` a missing name stays undefined; otherwise it is `'default'`.
 */
function parseTemplate(input: unknown, path: string, unnamed: 'default' | 'allowed'): PolicyTemplate {
  if (typeof input !== 'object' || input === null) {
    invalidOption(path.replace(/\.$/, '') || 'policy', input, 'an object { name, capacity, refillPerSecond }');
  }
  // Inline, the policy's fields are among the limiter's options, whose names the caller checks.
  if (path !== '') checkOptionNames(input, POLICY_OPTIONS, path);
  const { name = unnamed === 'default' ? 'default' : undefined, capacity, refillPerSecond } = input as Partial<PolicyOptions>;
  if (name !== undefined && !isPolicyName(name)) {
    invalidOption(`${path}name`, name, 'a string of 1 to 128 printable ASCII characters without ", \\, { or }');
  }
  if (typeof capacity !== 'number' || !Number.isSafeInteger(capacity) || capacity < 1) {
    invalidOption(`${path}capacity`, capacity, 'an integer >= 1 (the bucket size: the largest burst)');
  }
  if (typeof refillPerSecond !== 'number' || !Number.isFinite(refillPerSecond) || refillPerSecond <= 0) {
    invalidOption(`${path}refillPerSecond`, refillPerSecond, 'a finite number > 0 (tokens added per second; 1000 / 86400 is 1000 a day)');
  }
  if (refillPerSecond > 1e6) {
    invalidOption(`${path}refillPerSecond`, refillPerSecond, 'at most 1000000 (a token per microsecond)');
  }
  if (capacity * tokenInterval(refillPerSecond) > MAX_FILL_UNITS) {
    if (timeScale(refillPerSecond) === 1) {
      invalidOption(`${path}refillPerSecond`, refillPerSecond, `fast enough that an empty bucket of ${capacity} fills within 1e9 seconds (about 31 years)`);
    }
    // Counted in nanoseconds to keep the rate exact, a bucket can take at most 1e6 s to fill.
    invalidOption(
      `${path}capacity`,
      capacity,
      `small enough that an empty bucket fills within 1e6 seconds (about 11.6 days) at ${refillPerSecond} tokens a second, so that its rate is kept within 0.1%`,
    );
  }
  return Object.freeze({
    name,
    capacity,
    refillPerSecond,
    windowSeconds: Math.max(1, Math.ceil(capacity / refillPerSecond)),
  });
}

/** The policy part of options: one policy inline (`name`, `capacity`, `refillPerSecond`) or `policies`. */
export interface PolicySource {
  name?: string | undefined;
  capacity?: number | undefined;
  refillPerSecond?: number | undefined;
  policies?: unknown;
}

/**
 * Validates the policy part of options, inline or `policies` (not both), throwing a
 * TokenBucketError that names the option and value. With `unnamed: 'allowed'` (the HTTP layer,
 * which names policies after the route) names may be missing; otherwise a missing name is
 * `'default'`. Names that are given must be unique.
 */
export function parsePolicyTemplates(options: PolicySource, unnamed: 'default' | 'allowed'): readonly PolicyTemplate[] {
  const { policies } = options;
  if (policies === undefined) {
    return Object.freeze([parseTemplate(options, '', unnamed)]);
  }
  for (const inline of ['name', 'capacity', 'refillPerSecond'] as const) {
    if (options[inline] !== undefined) {
      throw new TokenBucketError(
        'TB_ERR_INVALID_OPTION',
        `give either \`policies\` or the inline \`${inline}\`, not both; got ${inline}: ${describeValue(options[inline])} beside policies.`,
        inline,
      );
    }
  }
  if (!Array.isArray(policies) || policies.length === 0) {
    invalidOption('policies', policies, 'a non-empty array of { name, capacity, refillPerSecond }');
  }
  if (policies.length > MAX_POLICIES) {
    invalidOption('policies', policies, `at most ${MAX_POLICIES} policies (each is sent in the RateLimit headers and read in one atomic step)`);
  }
  const parsed = policies.map((p: unknown, i: number) => parseTemplate(p, `policies[${i}].`, unnamed));
  const seen = new Set<string>();
  parsed.forEach((p, i) => {
    if (p.name === undefined) return; // named after the route, with its index: unique
    if (seen.has(p.name)) {
      invalidOption(`policies[${i}].name`, p.name, 'unique within the limiter (each policy needs its own name; the default name is "default")');
    }
    seen.add(p.name);
  });
  return Object.freeze(parsed);
}

/** Validates the policy part of limiter options; a missing name is `'default'`. */
export function parsePolicies(options: PolicySource): readonly Policy[] {
  return parsePolicyTemplates(options, 'default') as readonly Policy[];
}

/**
 * Validates a take's cost: a finite number >= 0. A cost above a policy's capacity is valid: it
 * is denied with `retryAfterMs: Infinity` (see Decision).
 */
export function parseCost(cost: unknown): number {
  if (typeof cost !== 'number' || !Number.isFinite(cost) || cost < 0) {
    throw new TokenBucketError('TB_ERR_INVALID_COST', `option \`cost\` must be a finite number >= 0; got ${describeValue(cost)}.`, 'cost');
  }
  return cost;
}

/** The rule of a take measured in tokens: every bucket holds at least `cost`. */
export function fits(levels: readonly number[], cost: number): boolean {
  for (const level of levels) if (!(level >= cost)) return false;
  return true;
}
