// Bucket store on Redis (standalone, Sentinel or Cluster): the take script, Redis's clock.
import type { Policy } from '../../policy.js';
import { bucketKey, type Store, type StoreStatusEvent, type TakeResult } from '../types.js';
import { Batcher } from './batcher.js';
import { TimeBudget } from './budget.js';
import type { RedisConnection } from './connection.js';
import { DenialCache } from './denial-cache.js';
import { pushTakeArgs, replyLength, resultFrom } from './gcra.js';
import { checkMemoryPolicy } from './memory-policy.js';
import { StoreCalls } from './calls.js';
import { parseRedisStoreOptions, type RedisStoreOptions } from './options.js';
import { callerSlot } from './slot.js';
import { LastLevels } from '../fallback.js';

export type { RedisStoreOptions } from './options.js';

/** A take waiting for the batch of this event-loop turn. */
interface QueuedTake {
  readonly callerId: string;
  readonly policies: readonly Policy[];
  readonly cost: number;
  readonly keyCount: number;
  resolve(result: TakeResult): void;
  reject(err: unknown): void;
}

/**
 * Buckets in Redis, shared by every process that uses the same server and prefix. The script
 * runs with EVALSHA, and the client resends it with EVAL when the server answers NOSCRIPT (after
 * a restart, a failover or SCRIPT FLUSH). On a Cluster, each master has its own circuit breaker,
 * and the takes of one turn are sent to each master together.
 */
export class RedisStore implements Store {
  /** The store's name in diagnostics and metrics. */
  readonly name: string;
  readonly prefix: string;
  readonly timeoutMs: number;
  private readonly connection: RedisConnection;
  private readonly calls: StoreCalls;
  private readonly denials: DenialCache | undefined;
  private readonly batcher: Batcher<QueuedTake, string | undefined> | undefined;
  /** What Redis last said about each caller's buckets, for the fallback (see store/fallback.ts). */
  readonly levels: LastLevels;

  constructor(options: RedisStoreOptions) {
    const config = parseRedisStoreOptions(options);
    this.name = config.name;
    this.prefix = config.prefix;
    this.timeoutMs = config.timeoutMs;
    this.connection = config.connection;
    this.calls = new StoreCalls(config.name, config.connection, new TimeBudget(config.timeoutMs), config.breaker, config.prefix);
    this.levels = new LastLevels();
    if (config.denialCacheKeys > 0) this.denials = new DenialCache(config.denialCacheKeys);
    if (config.batch) {
      this.connection.prepareBatches();
      // Takes held for the end of the turn go out before QUIT (quitHooks), so they are answered.
      this.batcher = new Batcher(
        (take) => this.nodeOf(take.callerId),
        (node, takes) => this.sendBatch(node, takes),
        this.connection.quitHooks,
      );
    }
    if (config.checkMemoryPolicy) checkMemoryPolicy(options.client, this.connection);
  }

  /**
   * The take, in Redis. A remembered denial is `takeNow`'s to answer, which the limiter asks
   * first: asking the denial cache again here would do that work twice on every Redis take.
   */
  take(callerId: string, policies: readonly Policy[], cost: number): Promise<TakeResult> {
    if (this.batcher !== undefined) {
      return new Promise<TakeResult>((resolve, reject) => {
        this.batcher!.add({ callerId, policies, cost, keyCount: policies.length, resolve, reject });
      });
    }
    return this.sendOne(callerId, policies, cost);
  }

  /** A denial this process remembers (the `denialCache` option), answered without Redis; else undefined. */
  takeNow(callerId: string, policies: readonly Policy[], cost: number): TakeResult | undefined {
    const denied = this.denials?.check(callerId, policies, cost);
    return denied === undefined ? undefined : { allowed: false, levels: denied, source: 'denial-cache' };
  }

  async reset(callerId: string, policies: readonly Policy[]): Promise<void> {
    this.denials?.forget(callerId, policies);
    this.levels.forget(callerId, policies);
    const keys = policies.map((p) => bucketKey(this.prefix, p.name, callerId));
    await this.calls.run(this.nodeOf(callerId), 0, () => this.connection.del(keys));
  }

  /**
   * Calls `listener` once each time a circuit opens (`'down'`) or closes (`'up'`): the store's
   * one circuit, or on a Cluster each master's (the event names the master in `node`).
   */
  subscribe(listener: (event: StoreStatusEvent) => void): () => void {
    return this.calls.subscribe(listener);
  }

  /** The master that serves the caller's slot, on a Cluster whose slots the client knows. */
  private nodeOf(callerId: string): string | undefined {
    return this.connection.cluster ? this.connection.nodeForSlot(callerSlot(callerId)) : undefined;
  }

  /** One take, one call: with batching off, and for takes a Cluster batch could not place. */
  private async sendOne(callerId: string, policies: readonly Policy[], cost: number): Promise<TakeResult> {
    const keys = policies.map((p) => bucketKey(this.prefix, p.name, callerId));
    const args: (string | number)[] = [0, 1];
    pushTakeArgs(args, policies, cost);
    const sentAt = performance.now();
    const reply = await this.calls.run(this.nodeOf(callerId), 1, () => this.connection.take(keys, args, false), firstWrote);
    const result = resultFrom(reply, policies, 0);
    if (result === undefined) throw this.calls.replyError(reply);
    this.remember(callerId, policies, result, sentAt, cost);
    return result;
  }

  /**
   * Several takes of one turn in one call. Off a Cluster every key is declared. On a Cluster the
   * takes are those of one master (or, before the client knows the slots, of any): the first key
   * is declared (the client routes the call by it) and the others travel as arguments; a take the
   * script answers "not here" (its slot is elsewhere, or moved) is sent again on its own, and the
   * client follows the redirection.
   */
  private sendBatch(node: string | undefined, takes: QueuedTake[]): void {
    if (this.connection.cluster && takes.length === 1) {
      for (const t of takes) this.sendOne(t.callerId, t.policies, t.cost).then(t.resolve, t.reject);
      return;
    }
    const keys: string[] = [];
    for (const t of takes) for (const p of t.policies) keys.push(bucketKey(this.prefix, p.name, t.callerId));
    let declared = keys;
    let args: (string | number)[];
    if (this.connection.cluster) {
      declared = [keys[0]!];
      args = [keys.length - 1];
      for (let i = 1; i < keys.length; i++) args.push(this.connection.keyPrefix + keys[i]!);
    } else {
      args = [0];
    }
    args.push(takes.length);
    for (const t of takes) pushTakeArgs(args, t.policies, t.cost);
    const sentAt = performance.now();
    this.calls
      .run(
        node,
        takes.length,
        () => this.connection.take(declared, args, true),
        (reply) => anyWrote(reply, takes),
      )
      .then(
        (reply) => {
          let offset = 0;
          for (const t of takes) {
            try {
              const result = resultFrom(reply, t.policies, offset);
              if (result === undefined) {
                this.sendOne(t.callerId, t.policies, t.cost).then(t.resolve, t.reject);
              } else {
                this.remember(t.callerId, t.policies, result, sentAt, t.cost);
                t.resolve(result);
              }
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

  private remember(callerId: string, policies: readonly Policy[], result: TakeResult, sentAt: number, cost: number): void {
    if (!result.allowed) this.denials?.remember(callerId, policies, result.levels, sentAt);
    this.levels.remember(callerId, policies, result, cost, sentAt);
  }
}

/** Whether a one-take reply debited (its verdict is 1). */
const firstWrote = (reply: unknown): boolean => Array.isArray(reply) && Number(reply[0]) === 1;

/** Whether any take of a batched reply debited. */
function anyWrote(reply: unknown, takes: readonly QueuedTake[]): boolean {
  if (!Array.isArray(reply)) return false;
  let offset = 0;
  for (const t of takes) {
    if (Number(reply[offset]) === 1) return true;
    offset += replyLength(t.policies.length);
  }
  return false;
}
