// Bucket store on Redis (standalone or Cluster): one Lua script call per take, Redis's clock.
import { invalidOption, TokenBucketError } from '../../errors.js';
import type { Policy } from '../../policy.js';
import { CircuitBreaker, type BreakerOptions } from '../breaker.js';
import { bucketKey, type Store, type StoreStatusEvent, type TakeResult } from '../types.js';
import { Batcher } from './batcher.js';
import { TimeBudget } from './budget.js';
import { bypassAutoPipelining, defineScript, isCluster, isRedisClient, unavailableStatus, type RedisClient } from './client.js';
import { DenialCache } from './denial-cache.js';
import { pushTakeArgs, replyLength, resultFrom } from './gcra.js';
import { BATCH_COMMAND, takeCommand } from './script.js';

export interface RedisStoreOptions {
  /**
   * An ioredis `Redis` or `Cluster` client. The store registers its script on it with
   * `defineCommand`; the client's `keyPrefix` and `enableAutoPipelining` apply as usual.
   */
  client: RedisClient;
  /**
   * Prepended to every bucket key: `<prefix><policy name>:{<caller id>}`. Must not contain `{`
   * or `}`, which would change the Cluster hash tag.
   * @default 'tb:'
   */
  prefix?: string;
  /**
   * Time budget of one call, in ms. A take that Redis has not answered by then (checked every
   * tenth of the budget, 5 to 50 ms) fails with STORE_TIMEOUT (and the limiter answers by
   * `onStoreError`), whatever the client's own retry and offline-queue settings. The command
   * itself may still reach Redis later.
   * @default 200
   */
  timeoutMs?: number;
  /**
   * The circuit breaker: after `failureThreshold` consecutive failures, takes fail at once
   * (STORE_CIRCUIT_OPEN) for `cooldownMs`, then one probe goes through; the store returns to
   * Redis by itself when a probe succeeds.
   * @default { failureThreshold: 3, cooldownMs: 1000 }
   */
  breaker?: BreakerOptions;
  /**
   * Remember denials in this process and answer a denied caller's repeat takes without Redis
   * while they are certain to be denied (a bucket only refills with time: until its levels could
   * cover the cost, no take can succeed). The reported levels are the most the buckets can hold
   * by then. A reset in another process is only seen once the remembered denial runs out;
   * `limiter.reset()` in this process forgets it at once. At `maxKeys` it starts over (about 150
   * bytes a caller). `false` turns it off.
   * @default { maxKeys: 100000 }
   */
  denialCache?: { maxKeys?: number } | false;
  /**
   * Send the takes made in the same tick together, up to 32 bucket keys per script call, each
   * take still all-or-nothing and atomic, in order. Fewer round trips and less per-call work for
   * Redis and for Node, at the cost of waiting for the end of the current tick. Not on a Cluster,
   * where one call must stay in one slot: there each take is its own call.
   * @default true
   */
  batch?: boolean;
}

/** A take waiting for the batch of this event-loop turn. */
interface QueuedTake {
  readonly callerId: string;
  readonly policies: readonly Policy[];
  readonly cost: number;
  readonly keyCount: number;
  resolve(result: TakeResult): void;
  reject(err: unknown): void;
}

type Command = (...keysAndArgs: (string | number)[]) => Promise<unknown>;

/**
 * Buckets in Redis, shared by every process that uses the same server and prefix. The script
 * runs with EVALSHA, and ioredis resends it with EVAL when the server answers NOSCRIPT (after a
 * restart, a failover or SCRIPT FLUSH).
 */
export class RedisStore implements Store {
  readonly prefix: string;
  readonly timeoutMs: number;
  private readonly client: RedisClient;
  private readonly breaker: CircuitBreaker;
  private readonly budget: TimeBudget;
  private readonly denials: DenialCache | undefined;
  /** The take command per policy count, defined on the client on first use. */
  private readonly commands: Command[] = [];
  private readonly batcher: Batcher<QueuedTake> | undefined;
  private readonly batchCommand: Command | undefined;

  constructor(options: RedisStoreOptions) {
    if (typeof options !== 'object' || options === null) {
      invalidOption('options', options, 'an object { client, prefix }');
    }
    const { client, prefix = 'tb:', timeoutMs = 200, breaker, denialCache = {}, batch = true } = options;
    if (!isRedisClient(client)) invalidOption('client', client, 'an ioredis Redis or Cluster client');
    if (typeof prefix !== 'string' || /[{}]/.test(prefix) || prefix.length > 256) {
      invalidOption('prefix', prefix, 'a string of at most 256 characters without { or }');
    }
    if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      invalidOption('timeoutMs', timeoutMs, 'a finite number of milliseconds > 0');
    }
    if (breaker !== undefined && (typeof breaker !== 'object' || breaker === null)) {
      invalidOption('breaker', breaker, 'an object { failureThreshold, cooldownMs }');
    }
    if (denialCache !== false) {
      const maxKeys = (denialCache as { maxKeys?: unknown } | null)?.maxKeys ?? 100_000;
      if (!Number.isSafeInteger(maxKeys) || (maxKeys as number) < 1) {
        invalidOption('denialCache.maxKeys', maxKeys, 'an integer >= 1 (or denialCache: false)');
      }
      this.denials = new DenialCache(maxKeys as number);
    }
    if (typeof batch !== 'boolean') invalidOption('batch', batch, 'true or false');
    this.prefix = prefix;
    this.timeoutMs = timeoutMs;
    this.client = client;
    this.breaker = new CircuitBreaker(breaker);
    this.budget = new TimeBudget(timeoutMs);
    if (batch && !isCluster(client)) {
      this.batchCommand = defineScript(client, BATCH_COMMAND);
      bypassAutoPipelining(client, BATCH_COMMAND);
      this.batcher = new Batcher((takes, keyCount) => this.sendBatch(takes, keyCount));
    }
  }

  take(callerId: string, policies: readonly Policy[], cost: number): Promise<TakeResult> {
    // Not an async function: a remembered denial is answered without one more promise to chain.
    const denied = this.denials?.check(callerId, policies, cost);
    if (denied !== undefined) return Promise.resolve({ allowed: false, levels: denied });
    if (this.batcher !== undefined) {
      return new Promise<TakeResult>((resolve, reject) => {
        this.batcher!.add({ callerId, policies, cost, keyCount: policies.length, resolve, reject });
      });
    }
    return this.sendOne(callerId, policies, cost);
  }

  async reset(callerId: string, policies: readonly Policy[]): Promise<void> {
    this.denials?.forget(callerId, policies);
    await this.guard(() => this.client.del(...policies.map((p) => bucketKey(this.prefix, p.name, callerId))));
  }

  /** Calls `listener` once each time the circuit opens (`'down'`) or closes (`'up'`). */
  subscribe(listener: (event: StoreStatusEvent) => void): () => void {
    return this.breaker.subscribe(listener);
  }

  /** One take, one call (on a Cluster, or with batching off). */
  private async sendOne(callerId: string, policies: readonly Policy[], cost: number): Promise<TakeResult> {
    const args: (string | number)[] = [];
    for (const p of policies) args.push(bucketKey(this.prefix, p.name, callerId));
    args.push(1);
    pushTakeArgs(args, policies, cost);
    const command = (this.commands[policies.length] ??= defineScript(this.client, takeCommand(policies.length), policies.length));
    const sentAt = performance.now();
    const reply = await this.guard(() => command(...args));
    return this.result(callerId, policies, cost, reply, 0, sentAt);
  }

  /** Several takes of one event-loop turn in one call: KEYS of every take, then their arguments. */
  private sendBatch(takes: QueuedTake[], keyCount: number): void {
    const args: (string | number)[] = [keyCount];
    for (const t of takes) for (const p of t.policies) args.push(bucketKey(this.prefix, p.name, t.callerId));
    args.push(takes.length);
    for (const t of takes) pushTakeArgs(args, t.policies, t.cost);
    const sentAt = performance.now();
    this.guard(() => this.batchCommand!(...args)).then(
      (reply) => {
        let offset = 0;
        for (const t of takes) {
          try {
            t.resolve(this.result(t.callerId, t.policies, t.cost, reply, offset, sentAt));
          } catch (err) {
            t.reject(err);
          }
          offset += replyLength(t.policies.length);
        }
      },
      (err: unknown) => {
        for (const t of takes) t.reject(err);
      },
    );
  }

  /** One take's result from the reply (its part starts at `offset`); remembers a denial. */
  private result(callerId: string, policies: readonly Policy[], cost: number, reply: unknown, offset: number, sentAt: number): TakeResult {
    const result = resultFrom(reply, policies, offset);
    if (!result.allowed) this.denials?.remember(callerId, policies, result.levels, sentAt);
    return result;
  }

  /**
   * Runs one call within the circuit breaker and the time budget. While the client is not
   * connected (ioredis reconnecting, or ended) the call is not sent at all: the offline queue
   * would replay it, and debit tokens, long after this request was answered.
   */
  private async guard<T>(call: () => Promise<T>): Promise<T> {
    if (!this.breaker.allow()) {
      throw new TokenBucketError('STORE_CIRCUIT_OPEN', 'Redis is being bypassed after repeated failures (circuit open).');
    }
    let result: T;
    try {
      const status = unavailableStatus(this.client);
      if (status !== undefined) {
        throw new TokenBucketError('STORE_UNAVAILABLE', `the Redis client is not connected (status "${status}").`);
      }
      result = await this.budget.run(call());
    } catch (err) {
      this.breaker.failure(err);
      throw err;
    }
    this.breaker.success();
    return result;
  }
}
