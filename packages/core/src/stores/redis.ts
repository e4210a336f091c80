// Bucket store on Redis (standalone or Cluster): one Lua script call per take, Redis's clock.
import type { Cluster, Redis } from 'ioredis';
import { CircuitBreaker, type BreakerOptions, type StoreStatusEvent } from '../breaker.js';
import { invalidOption, TokenBucketError } from '../errors.js';
import type { Policy } from '../options.js';
import { bucketKey, type Store } from '../store.js';
import { canTake } from '../decision.js';
import { DenialCache } from './denial-cache.js';
import { TAKE_SCRIPT } from './take-script.js';

export interface RedisStoreOptions {
  /**
   * An ioredis `Redis` or `Cluster` client. The store registers its script on it with
   * `defineCommand`; the client's `keyPrefix` and `enableAutoPipelining` apply as usual.
   */
  client: Redis | Cluster;
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

/**
 * The script's command name for takes of `n` policies; versioned so an upgraded script never
 * runs under an old name. One command per key count, defined with `numberOfKeys`, so ioredis
 * knows which arguments are keys: with the count as a first argument instead, auto-pipelining
 * on a Cluster groups commands by the slot of that number and refuses pipelines whose keys live
 * on several masters.
 */
const commandName = (n: number): string => `tokenbucketTakeV2k${n}`;
/** The same script with the key count as its first argument, for batches (never on a Cluster). */
const BATCH_COMMAND = 'tokenbucketTakeV2';
/**
 * Most bucket keys in one batched call. Redis runs a call while Node prepares the next and reads
 * the last: one large call per tick leaves each side idle while the other works (`pnpm bench`, raw
 * decisions with 100 in flight: up to 256 keys a call gave 149k/s on a hot key and 93k/s over
 * 100,000 keys; up to 32, 217k/s and 132k/s; 16 and 8 were no better than 32 in direct runs).
 */
const MAX_BATCH_KEYS = 32;

/** A take waiting for the batch of this event-loop turn. */
interface Queued {
  callerId: string;
  policies: readonly Policy[];
  cost: number;
  keys: string[];
  /** n, then tau and inc per policy. */
  argv: number[];
  resolve: (levels: number[]) => void;
  reject: (err: unknown) => void;
}

/** The client as this store uses it: typed here, without augmenting ioredis's own types. */
type ClientWithTake = (Redis | Cluster) & Record<string, (...keysAndArgs: (string | number)[]) => Promise<unknown>>;

/**
 * Buckets in Redis, shared by every process that uses the same server and prefix. The script
 * runs with EVALSHA, and ioredis resends it with EVAL when the server answers NOSCRIPT (after a
 * restart, a failover or SCRIPT FLUSH).
 */
export class RedisStore implements Store {
  readonly prefix: string;
  readonly timeoutMs: number;
  private readonly client: ClientWithTake;
  private readonly breaker: CircuitBreaker;
  /** The take command's name per policy count, defined on the client on first use. */
  private readonly commands: string[] = [];
  private readonly denials: DenialCache | undefined;
  private readonly batching: boolean;
  private queue: Queued[] = [];
  private flushScheduled = false;

  constructor(options: RedisStoreOptions) {
    if (typeof options !== 'object' || options === null) {
      invalidOption('options', options, 'an object { client, prefix }');
    }
    const { client, prefix = 'tb:', timeoutMs = 200, breaker, denialCache = {}, batch = true } = options;
    if (typeof client !== 'object' || client === null || typeof (client as Redis).defineCommand !== 'function') {
      invalidOption('client', client, 'an ioredis Redis or Cluster client');
    }
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
    this.breaker = new CircuitBreaker(breaker);
    this.client = client as ClientWithTake;
    this.batching = batch && (client as { isCluster?: boolean }).isCluster !== true;
    if (this.batching) {
      if (typeof this.client[BATCH_COMMAND] !== 'function') this.client.defineCommand(BATCH_COMMAND, { lua: TAKE_SCRIPT });
      bypassAutoPipelining(this.client, BATCH_COMMAND);
    }
  }

  take(callerId: string, policies: readonly Policy[], cost: number): Promise<number[]> {
    // Not an async function: a remembered denial is answered without one more promise to chain.
    const denied = this.denials?.check(callerId, policies, cost);
    if (denied !== undefined) return Promise.resolve(denied);
    return this.send(callerId, policies, cost);
  }

  private async send(callerId: string, policies: readonly Policy[], cost: number): Promise<number[]> {
    const n = policies.length;
    const keys = new Array<string>(n);
    const argv = new Array<number>(1 + 2 * n);
    argv[0] = n;
    for (let i = 0; i < n; i++) {
      const p = policies[i]!;
      const interval = tokenInterval(p);
      keys[i] = bucketKey(this.prefix, p.name, callerId);
      argv[1 + 2 * i] = p.capacity * interval;
      argv[2 + 2 * i] = cost === 0 ? 0 : Math.ceil(cost * interval);
    }
    if (this.batching) {
      return new Promise<number[]>((resolve, reject) => {
        this.queue.push({ callerId, policies, cost, keys, argv, resolve, reject });
        if (!this.flushScheduled) {
          this.flushScheduled = true;
          setImmediate(() => this.flush());
        }
      });
    }
    const command = this.commands[n] ?? this.defineTake(n);
    const sentAt = performance.now();
    const reply = await this.guard(() => this.client[command]!(...keys, 1, ...argv));
    return this.levels(callerId, policies, cost, reply, 0, sentAt);
  }

  /**
   * Sends the takes queued in this turn in as few calls as MAX_BATCH_KEYS allows, filled evenly
   * (100 keys go as 25 + 25 + 25 + 25, not 32 + 32 + 32 + 4).
   */
  private flush(): void {
    this.flushScheduled = false;
    const queue = this.queue;
    this.queue = [];
    let total = 0;
    for (const q of queue) total += q.keys.length;
    const perCall = Math.ceil(total / Math.ceil(total / MAX_BATCH_KEYS));
    let start = 0;
    while (start < queue.length) {
      let end = start;
      let keyCount = 0;
      while (end < queue.length && (end === start || keyCount + queue[end]!.keys.length <= perCall)) {
        keyCount += queue[end]!.keys.length;
        end++;
      }
      this.sendBatch(queue.slice(start, end), keyCount);
      start = end;
    }
  }

  private sendBatch(batch: Queued[], keyCount: number): void {
    const args: (string | number)[] = [keyCount];
    for (const q of batch) for (const key of q.keys) args.push(key);
    args.push(batch.length);
    for (const q of batch) for (const v of q.argv) args.push(v);
    const sentAt = performance.now();
    this.guard(() => this.client[BATCH_COMMAND]!(...args)).then(
      (reply) => {
        let offset = 0;
        for (const q of batch) {
          try {
            q.resolve(this.levels(q.callerId, q.policies, q.cost, reply, offset, sentAt));
          } catch (err) {
            q.reject(err);
          }
          offset += q.keys.length;
        }
      },
      (err: unknown) => {
        for (const q of batch) q.reject(err);
      },
    );
  }

  /** One take's levels from the reply (its buckets start at `offset`); remembers a denial. */
  private levels(callerId: string, policies: readonly Policy[], cost: number, reply: unknown, offset: number, sentAt: number): number[] {
    const levels = levelsFrom(reply, policies, offset);
    if (this.denials !== undefined && !canTake(levels, cost)) this.denials.remember(callerId, policies, levels, sentAt);
    return levels;
  }

  async reset(callerId: string, policies: readonly Policy[]): Promise<void> {
    this.denials?.forget(callerId, policies);
    await this.guard(() => this.client.del(...policies.map((p) => bucketKey(this.prefix, p.name, callerId))));
  }

  private defineTake(n: number): string {
    const name = commandName(n);
    if (typeof this.client[name] !== 'function') this.client.defineCommand(name, { lua: TAKE_SCRIPT, numberOfKeys: n });
    this.commands[n] = name;
    return name;
  }

  /** Calls `listener` once each time the circuit opens (`'down'`) or closes (`'up'`). */
  subscribe(listener: (event: StoreStatusEvent) => void): () => void {
    return this.breaker.subscribe(listener);
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
      const status = this.client.status;
      if (status === 'reconnecting' || status === 'end' || status === 'close' || status === 'disconnecting') {
        throw new TokenBucketError('STORE_UNAVAILABLE', `the Redis client is not connected (status "${status}").`);
      }
      result = await withTimeout(call(), this.timeoutMs);
    } catch (err) {
      this.breaker.failure(err);
      throw err;
    }
    this.breaker.success();
    return result;
  }
}

/**
 * Sends `command` outside ioredis auto-pipelining, by adding it to the client's
 * `autoPipeliningIgnoredCommands` (a new array: the caller's own is left as it was). A batched take
 * is already one call for a whole turn of the event loop: auto-pipelining would only hold it to the
 * next tick and queue it behind the turn's other commands (`pnpm bench`: raw decisions 224k/s with
 * auto-pipelining off, 120k/s on, before this).
 */
function bypassAutoPipelining(client: Redis | Cluster, command: string): void {
  const options = (client as { options?: { autoPipeliningIgnoredCommands?: unknown } }).options;
  if (typeof options !== 'object' || options === null) return;
  const ignored = Array.isArray(options.autoPipeliningIgnoredCommands) ? (options.autoPipeliningIgnoredCommands as string[]) : [];
  if (!ignored.includes(command)) options.autoPipeliningIgnoredCommands = [...ignored, command];
}

/** Rejects with STORE_TIMEOUT when `promise` has not settled within `ms`. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const call: Pending = { deadline: performance.now() + ms, ms, reject };
    pending.add(call);
    if (sweeper === undefined) startSweeper(ms);
    promise.then(
      (value) => {
        pending.delete(call);
        resolve(value);
      },
      (err: unknown) => {
        pending.delete(call);
        reject(err);
      },
    );
  });
}

/**
 * Calls in flight with their deadlines. One shared timer checks them, instead of a timer per
 * call (a timer costs more than the call's own bookkeeping on the hot path): a call that runs
 * out is rejected between `timeoutMs` and `timeoutMs` + one tick of the sweeper.
 */
interface Pending {
  deadline: number;
  ms: number;
  reject: (err: Error) => void;
}
const pending = new Set<Pending>();
let sweeper: NodeJS.Timeout | undefined;

function startSweeper(ms: number): void {
  const tick = Math.max(5, Math.min(50, Math.floor(ms / 10)));
  sweeper = setInterval(() => {
    if (pending.size === 0) {
      clearInterval(sweeper);
      sweeper = undefined;
      return;
    }
    const now = performance.now();
    for (const call of pending) {
      if (call.deadline <= now) {
        pending.delete(call);
        call.reject(new TokenBucketError('STORE_TIMEOUT', `Redis did not answer within ${call.ms} ms (timeoutMs).`));
      }
    }
  }, tick);
  sweeper.unref();
}

/**
 * Microseconds one token takes to refill, rounded up to a whole microsecond so the script's
 * arithmetic stays on integers: the effective rate is never above the policy's, and within
 * 1 / interval of it (within a millionth for one token a second).
 */
function tokenInterval(p: Policy): number {
  return Math.ceil(1e6 / p.refillPerSecond);
}

/** A take's levels from the script's reply, from `offset` on: (tau - ahead) / interval, within [0, capacity]. */
function levelsFrom(reply: unknown, policies: readonly Policy[], offset: number): number[] {
  if (Array.isArray(reply) && reply.length >= offset + policies.length) {
    const levels = new Array<number>(policies.length);
    let ok = true;
    for (let i = 0; i < policies.length; i++) {
      const p = policies[i]!;
      const ahead = Number(reply[offset + i]);
      if (!Number.isFinite(ahead)) ok = false;
      const interval = tokenInterval(p);
      levels[i] = Math.min(p.capacity, Math.max(0, (p.capacity * interval - ahead) / interval));
    }
    if (ok) return levels;
  }
  throw new TokenBucketError('STORE_REPLY', `unexpected reply from the take script: ${JSON.stringify(reply)}`);
}
