// RedisStore's options, and their parsing into the store's config.
import { invalidOption } from '../../errors.js';
import { checkOptionNames, optionNames } from '../../option-names.js';
import type { BreakerOptions } from '../breaker.js';
import { type LeaseConfig, type LeaseOptions, parseLeaseOptions } from '../lease.js';
import type { RedisConnection } from './connection.js';
import { type IoredisLike, ioredisConnection, isIoredis } from './ioredis.js';
import { isNodeRedis, type NodeRedisLike, nodeRedisConnection } from './node-redis.js';

export interface RedisStoreOptions {
  /**
   * The client you already have: an ioredis (5 or 6) `Redis` (standalone or Sentinel) or
   * `Cluster`, or a node-redis (`redis` 4 to 6) client from `createClient` or `createCluster`,
   * connected. With ioredis the store defines its script with `defineCommand`, and the client's
   * `keyPrefix` and `enableAutoPipelining` apply as usual; with node-redis it sends EVALSHA (EVAL
   * when the server answers NOSCRIPT).
   */
  client: IoredisLike | NodeRedisLike;
  /**
   * Prepended to every bucket key: `<prefix><policy name>:{<caller id>}`. Must not contain `{`
   * or `}`, which would change the Cluster hash tag.
   * @default 'tb:'
   */
  prefix?: string;
  /**
   * The store's name in diagnostics channels and metrics (a label value: keep it short and fixed).
   * @default 'redis'
   */
  name?: string;
  /**
   * Time budget of one call, in ms. A take that Redis has not answered by then (checked every
   * tenth of the budget, 5 to 50 ms) fails with TB_ERR_STORE_TIMEOUT (and the limiter answers by
   * `storeFailure`), whatever the client's own retry and offline-queue settings. A reply that has
   * arrived is never a time-out, however long the event loop was blocked. The command itself may
   * still reach Redis later.
   * @default 200
   */
  timeoutMs?: number;
  /**
   * The circuit breaker (on a Cluster, one per master): after `failureThreshold` consecutive
   * failures, takes fail at once (TB_ERR_STORE_CIRCUIT_OPEN) for `cooldownMs`, then one probe goes
   * through; the store returns to Redis by itself when a probe succeeds.
   * @default { failureThreshold: 3, cooldownMs: 1000 }
   */
  breaker?: BreakerOptions;
  /**
   * Remember denials in this process and answer a denied caller's repeat takes without Redis
   * while they are certain to be denied (a bucket only refills with time: until its levels could
   * cover the cost, no take can succeed). The reported levels are the most the buckets can hold
   * by then. A reset in another process is only seen once the remembered denial runs out;
   * `limiter.reset()` in this process forgets it at once. At `maxKeys` it starts over. `false`
   * turns it off.
   * @default { maxKeys: 100000 }
   */
  denialCache?: { maxKeys?: number } | false;
  /**
   * Send the takes made in the same turn of the event loop together, up to 32 bucket keys per
   * script call (on a Cluster, per master), each take still all-or-nothing and atomic, in order.
   * Fewer round trips and less per-call work for Redis and for Node, at the cost of waiting for
   * the end of the current turn.
   * @default true
   */
  batch?: boolean;
  /**
   * On connect, read each master's `maxmemory-policy` and emit a TokenBucketWarning when it lets
   * Redis evict buckets (anything but `noeviction`: an evicted bucket comes back full), or when it
   * cannot be read (an ACL without CONFIG). `false` skips the check.
   * @default true
   */
  checkMemoryPolicy?: boolean;
  /**
   * Token leases for hot keys: a key taken at least `minRate` times a second in this process takes
   * a batch of tokens from Redis in one take (at most `maxTokens`, and at most a quarter of what the
   * bucket held) and spends them here without a call; what it does not spend goes back to Redis
   * when the lease ends (after `maxMs`, when the key cools, and on the client's `quit()`). Never
   * admits more than the bucket's bound; denials, takes under a lock-out rule and reads (cost 0)
   * always go to Redis. `true` turns them on with the defaults.
   * @default false
   */
  leases?: boolean | LeaseOptions;
}

const REDIS_STORE_OPTIONS = optionNames<RedisStoreOptions>({
  client: 1,
  prefix: 1,
  name: 1,
  timeoutMs: 1,
  breaker: 1,
  denialCache: 1,
  batch: 1,
  checkMemoryPolicy: 1,
  leases: 1,
});
const BREAKER_OPTIONS = optionNames<BreakerOptions>({ failureThreshold: 1, cooldownMs: 1 });
const DENIAL_CACHE_OPTIONS = optionNames<Exclude<RedisStoreOptions['denialCache'], false | undefined>>({ maxKeys: 1 });

/** RedisStoreOptions, validated. */
export interface RedisStoreConfig {
  readonly connection: RedisConnection;
  readonly prefix: string;
  readonly name: string;
  readonly timeoutMs: number;
  readonly breaker: BreakerOptions | undefined;
  /** 0 when the denial cache is off. */
  readonly denialCacheKeys: number;
  readonly batch: boolean;
  readonly checkMemoryPolicy: boolean;
  /** Undefined when leases are off. */
  readonly leases: LeaseConfig | undefined;
}

export function parseRedisStoreOptions(options: RedisStoreOptions): RedisStoreConfig {
  if (typeof options !== 'object' || options === null) {
    invalidOption('options', options, 'an object { client, prefix }');
  }
  checkOptionNames(options, REDIS_STORE_OPTIONS);
  const { client, prefix = 'tb:', name = 'redis', timeoutMs = 200, breaker, denialCache = {}, batch = true, checkMemoryPolicy = true, leases } = options;
  if (!isIoredis(client) && !isNodeRedis(client)) {
    invalidOption('client', client, 'an ioredis Redis or Cluster client, or a node-redis client from createClient or createCluster');
  }
  if (typeof prefix !== 'string' || /[{}]/.test(prefix) || prefix.length > 256) {
    invalidOption('prefix', prefix, 'a string of at most 256 characters without { or }');
  }
  if (typeof name !== 'string' || !/^[\w.:-]{1,64}$/.test(name)) {
    invalidOption('name', name, 'a string of 1 to 64 letters, digits, _ . : or -');
  }
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    invalidOption('timeoutMs', timeoutMs, 'a finite number of milliseconds > 0');
  }
  if (breaker !== undefined && (typeof breaker !== 'object' || breaker === null)) {
    invalidOption('breaker', breaker, 'an object { failureThreshold, cooldownMs }');
  }
  if (breaker !== undefined) checkOptionNames(breaker, BREAKER_OPTIONS, 'breaker.');
  let denialCacheKeys = 0;
  if (denialCache !== false) {
    if (typeof denialCache !== 'object' || denialCache === null) invalidOption('denialCache', denialCache, 'an object { maxKeys }, or false');
    checkOptionNames(denialCache, DENIAL_CACHE_OPTIONS, 'denialCache.');
    const maxKeys = (denialCache as { maxKeys?: unknown }).maxKeys ?? 100_000;
    if (!Number.isSafeInteger(maxKeys) || (maxKeys as number) < 1) {
      invalidOption('denialCache.maxKeys', maxKeys, 'an integer >= 1 (or denialCache: false)');
    }
    denialCacheKeys = maxKeys as number;
  }
  if (typeof batch !== 'boolean') invalidOption('batch', batch, 'true or false');
  if (typeof checkMemoryPolicy !== 'boolean') invalidOption('checkMemoryPolicy', checkMemoryPolicy, 'true or false');
  const leaseConfig = parseLeaseOptions(leases);
  return {
    connection: isIoredis(client) ? ioredisConnection(client) : nodeRedisConnection(client),
    prefix,
    name,
    timeoutMs,
    breaker,
    denialCacheKeys,
    batch,
    checkMemoryPolicy,
    leases: leaseConfig,
  };
}
