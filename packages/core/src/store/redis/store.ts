// Bucket store on Redis (standalone, Sentinel or Cluster): the take script, Redis's clock.
import { TokenBucketError } from '../../errors.js';
import { fits, type Policy } from '../../policy.js';
import { LeaseTable } from '../lease.js';
import { checkLockoutRule, checkTokens, LockCache } from '../lockout.js';
import { bucketKey, type ConcurrencyPolicy, type LockoutRule, lockKeys, type SlotResult, slotKey, type Store, type TakeResult } from '../types.js';
import type { StoreStatusChange } from '../../diagnostics.js';
import { Batcher } from './batcher.js';
import { TimeBudget } from './budget.js';
import type { RedisConnection } from './connection.js';
import { DenialCache } from './denial-cache.js';
import { extraKeyCount, pushOpArgs, replyLength, resultFrom, type ScriptOp, storeReplyError } from './gcra.js';
import { checkMemoryPolicy } from './memory-policy.js';
import { StoreCalls } from './calls.js';
import { parseRedisStoreOptions, type RedisStoreOptions } from './options.js';
import { callerSlot } from './slot.js';
import type { SlotOp } from './slots.js';
import { LastLevels } from '../fallback.js';

export type { RedisStoreOptions } from './options.js';

/** A take or an adjust waiting for the batch of this event-loop turn. */
interface QueuedOp extends ScriptOp {
  readonly callerId: string;
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
  private readonly locks: LockCache | undefined;
  private readonly batcher: Batcher<QueuedOp, string | undefined> | undefined;
  /** What Redis last said about each caller's buckets, for the fallback (see store/fallback.ts). */
  readonly levels: LastLevels;
  /** Token leases for hot keys (the `leases` option), or undefined when off. */
  readonly leases: LeaseTable | undefined;

  constructor(options: RedisStoreOptions) {
    const config = parseRedisStoreOptions(options);
    this.name = config.name;
    this.prefix = config.prefix;
    this.timeoutMs = config.timeoutMs;
    this.connection = config.connection;
    this.calls = new StoreCalls(config.name, config.connection, new TimeBudget(config.timeoutMs), config.breaker, config.prefix);
    this.levels = new LastLevels();
    if (config.denialCacheKeys > 0) {
      this.denials = new DenialCache(config.denialCacheKeys);
      this.locks = new LockCache(config.denialCacheKeys);
    }
    if (config.leases !== undefined) {
      const leases = new LeaseTable(
        config.leases,
        (callerId, policies, tokens) => {
          this.send({ callerId, policies, kind: 'adjust', amount: tokens, keyCount: policies.length }).catch(() => {});
        },
        undefined,
        (callerId, policies, cost) => this.renewLease(leases, callerId, policies, cost),
      );
      this.leases = leases;
      // Before QUIT, unspent leased tokens go back (their adjusts are then flushed with the held takes).
      this.connection.quitHooks.add(() => leases.releaseAll());
    }
    if (config.batch) {
      this.connection.prepareBatches();
      // Takes held for the end of the turn go out before QUIT (quitHooks), so they are answered.
      this.batcher = new Batcher(
        (op) => this.nodeOf(op.callerId),
        (node, ops) => this.sendBatch(node, ops),
        this.connection.quitHooks,
      );
    }
    if (config.checkMemoryPolicy) checkMemoryPolicy(options.client, this.connection);
  }

  /**
   * The take, in Redis. A remembered denial or lock is `takeNow`'s to answer, which the limiter
   * asks first: asking the caches again here would do that work twice on every Redis take.
   */
  take(callerId: string, policies: readonly Policy[], cost: number, lockout?: LockoutRule): Promise<TakeResult> {
    if (lockout !== undefined) {
      try {
        checkLockoutRule(lockout);
      } catch (err) {
        return Promise.reject(err);
      }
    }
    if (this.leases !== undefined && lockout === undefined) return this.leasedTake(this.leases, callerId, policies, cost);
    return this.send({ callerId, policies, kind: 'take', amount: cost, lockout, keyCount: policies.length + (lockout === undefined ? 0 : 2) });
  }

  /**
   * A take with leases on: waits for the key's lease take when one is on its way and spends from
   * it; else asks Redis for a lease (a take of `batch x cost`) when the key is hot, or for the
   * cost alone. A lease take Redis denies is not a denial: when the levels it reported cover the
   * cost, the take is asked again for the cost alone.
   */
  private leasedTake(leases: LeaseTable, callerId: string, policies: readonly Policy[], cost: number): Promise<TakeResult> {
    const pending = leases.pending(callerId, policies);
    if (pending !== undefined) {
      return pending.then(() => this.takeNow(callerId, policies, cost) ?? this.leasedTake(leases, callerId, policies, cost));
    }
    const batch = leases.batchFor(callerId, policies, cost);
    const plain = (): Promise<TakeResult> =>
      this.send({ callerId, policies, kind: 'take', amount: cost, keyCount: policies.length }).then((result) => {
        leases.observe(callerId, policies, result.levels);
        return result;
      });
    if (batch < 2) return plain();
    const sentAt = performance.now();
    const taking = this.send({ callerId, policies, kind: 'take', amount: batch * cost, keyCount: policies.length }).then((result) => {
      if (result.allowed) return leases.granted(callerId, policies, cost, batch * cost, result, sentAt);
      leases.observe(callerId, policies, result.levels);
      return fits(result.levels, cost) ? plain() : result;
    });
    leases.setPending(callerId, policies, taking);
    return taking;
  }

  /**
   * Takes the key's next lease while its current one still answers (it ran low: see the lease
   * table's RENEW_AT), so that its takes do not all wait for Redis when it is spent. No request
   * waits for this take unless the current lease runs out first; a failure is left to the key's
   * next take from Redis to meet.
   */
  private renewLease(leases: LeaseTable, callerId: string, policies: readonly Policy[], cost: number): void {
    if (leases.pending(callerId, policies) !== undefined) return;
    const batch = leases.batchFor(callerId, policies, cost, false);
    if (batch < 2) return;
    const sentAt = performance.now();
    const taking = this.send({ callerId, policies, kind: 'take', amount: batch * cost, keyCount: policies.length }).then(
      (result) => {
        if (result.allowed) leases.granted(callerId, policies, 0, batch * cost, result, sentAt);
        else leases.observe(callerId, policies, result.levels);
      },
      () => undefined,
    );
    leases.setPending(callerId, policies, taking);
  }

  /**
   * A take answered from this process's memory without Redis, else undefined: a lock it has seen
   * (the take's `lockout` rule; source `'lockout'`), or a remembered denial (the `denialCache`
   * option). Takes under a lockout rule never use the denial cache: each denial must reach Redis
   * to be counted, so until the caller is locked its denials cost a call each; once locked, none.
   */
  takeNow(callerId: string, policies: readonly Policy[], cost: number, lockout?: LockoutRule): TakeResult | undefined {
    if (this.leases !== undefined && lockout === undefined && cost > 0) {
      const leased = this.leases.spend(callerId, policies, cost);
      if (leased !== undefined) return leased;
    }
    if (lockout !== undefined) {
      const lock = this.locks?.check(lockout.name, callerId, policies);
      return lock === undefined ? undefined : { allowed: false, levels: lock.levels, source: 'lockout', lockedMs: lock.lockedMs };
    }
    const denied = this.denials?.check(callerId, policies, cost);
    return denied === undefined ? undefined : { allowed: false, levels: denied, source: 'denial-cache' };
  }

  /**
   * Adds (or, negative, removes) `tokens` in each of the caller's buckets, in Redis, in the same
   * atomic style as a take. A refund makes this process forget a remembered denial of the caller
   * for these policies, when it is sent and again when Redis has applied it (a take answered in
   * between was decided before the refund).
   */
  adjust(callerId: string, policies: readonly Policy[], tokens: number): Promise<TakeResult> {
    try {
      checkTokens(tokens);
    } catch (err) {
      return Promise.reject(err);
    }
    if (tokens > 0) this.forgetCaller(callerId);
    if (tokens > 0 && this.leases !== undefined) {
      // A refund goes back into the caller's live lease, up to what the lease has spent; the rest to Redis.
      const credit = this.leases.credit(callerId, policies, tokens);
      if (credit !== undefined && credit.credited >= tokens) return Promise.resolve({ allowed: true, levels: credit.levels, source: 'lease' });
      if (credit !== undefined) tokens -= credit.credited;
    }
    const adjusted = this.send({ callerId, policies, kind: 'adjust', amount: tokens, keyCount: policies.length });
    if (tokens <= 0 || (this.denials === undefined && this.locks === undefined)) return adjusted;
    return adjusted.then((result) => {
      this.forgetCaller(callerId);
      return result;
    });
  }

  /** Drops what this process remembers of the caller (denials, the levels seen with its locks): tokens went back. */
  private forgetCaller(callerId: string): void {
    this.denials?.forget(callerId);
    this.locks?.forgetCaller(callerId);
  }

  /** Holds a slot of the caller under `policy` if one is free, in Redis, atomically (see store/redis/slots.ts). */
  async acquireSlot(callerId: string, policy: ConcurrencyPolicy, slotId: string): Promise<SlotResult> {
    const [verdict, held] = await this.slotCall(callerId, policy, 'acquire', slotId);
    return { allowed: verdict === 1, held, source: 'redis' };
  }

  async renewSlot(callerId: string, policy: ConcurrencyPolicy, slotId: string): Promise<boolean> {
    const [verdict] = await this.slotCall(callerId, policy, 'renew', slotId);
    return verdict === 1;
  }

  async releaseSlot(callerId: string, policy: ConcurrencyPolicy, slotId: string): Promise<void> {
    await this.slotCall(callerId, policy, 'release', slotId);
  }

  async countSlots(callerId: string, policy: ConcurrencyPolicy): Promise<number> {
    const [, held] = await this.slotCall(callerId, policy, 'count', '');
    return held;
  }

  async resetSlots(callerId: string, policy: ConcurrencyPolicy): Promise<void> {
    await this.calls.run(this.nodeOf(callerId), 0, () => this.connection.del([slotKey(this.prefix, policy.name, callerId)]));
  }

  /** One run of the slot script, within the caller's node's breaker and the time budget. */
  private async slotCall(callerId: string, policy: ConcurrencyPolicy, op: SlotOp, slotId: string): Promise<[verdict: number, held: number]> {
    const key = slotKey(this.prefix, policy.name, callerId);
    const args = [op, slotId, String(policy.max), String(policy.leaseMs)];
    const reply = await this.calls.run(this.nodeOf(callerId), 1, () => this.connection.slots(key, args));
    if (!Array.isArray(reply) || reply.length !== 2) throw storeReplyError(reply);
    return [Number(reply[0]), Number(reply[1])];
  }

  async reset(callerId: string, policies: readonly Policy[]): Promise<void> {
    this.forgetCaller(callerId);
    this.levels.forget(callerId, policies);
    this.leases?.drop(callerId);
    const keys = policies.map((p) => bucketKey(this.prefix, p.name, callerId));
    await this.calls.run(this.nodeOf(callerId), 0, () => this.connection.del(keys));
  }

  /** Lifts the caller's lock under `lockout` in Redis and in this process, with the denials counted towards one. */
  async unlock(callerId: string, lockout: LockoutRule): Promise<void> {
    checkLockoutRule(lockout);
    this.locks?.forget(lockout.name, callerId);
    await this.calls.run(this.nodeOf(callerId), 0, () => this.connection.del(lockKeys(this.prefix, lockout.name, callerId)));
    this.locks?.forget(lockout.name, callerId); // a take answered meanwhile saw the lock before it was lifted
  }

  /**
   * Deletes every key under this store's prefix (after the client's own `keyPrefix`), on every
   * master, and forgets what this process remembers. For tests: it scans the whole keyspace, and
   * takes made meanwhile may survive it. Never in production.
   */
  async clear(): Promise<number> {
    this.denials?.clear();
    this.locks?.clear();
    this.leases?.clear();
    const status = this.connection.unavailable();
    if (status !== undefined) throw new TokenBucketError('TB_ERR_STORE_UNAVAILABLE', `the Redis client is not connected (status "${status}").`);
    return this.connection.deleteUnder(this.prefix);
  }

  /**
   * Calls `listener` once each time a circuit opens (`'down'`) or closes (`'up'`): the store's
   * one circuit, or on a Cluster each master's (the event names the master in `node`).
   */
  subscribe(listener: (event: StoreStatusChange) => void): () => void {
    return this.calls.subscribe(listener);
  }

  /** The master that serves the caller's slot, on a Cluster whose slots the client knows. */
  private nodeOf(callerId: string): string | undefined {
    return this.connection.cluster ? this.connection.nodeForSlot(callerSlot(callerId)) : undefined;
  }

  /** Queues an operation for this turn's batch, or sends it on its own when batching is off. */
  private send(op: Omit<QueuedOp, 'resolve' | 'reject'>): Promise<TakeResult> {
    if (this.batcher !== undefined) {
      return new Promise<TakeResult>((resolve, reject) => {
        this.batcher!.add({ ...op, resolve, reject });
      });
    }
    return this.sendOne(op);
  }

  /** The keys of one operation: its buckets, then a lockout take's lock and denials keys. */
  private keysOf(op: ScriptOp & { readonly callerId: string }, into: string[] = []): string[] {
    for (const p of op.policies) into.push(bucketKey(this.prefix, p.name, op.callerId));
    if (extraKeyCount(op) > 0) into.push(...lockKeys(this.prefix, op.lockout!.name, op.callerId));
    return into;
  }

  /** One operation, one call: with batching off, and for operations a Cluster batch could not place. */
  private async sendOne(op: Omit<QueuedOp, 'resolve' | 'reject'>): Promise<TakeResult> {
    const keys = this.keysOf(op);
    const args: (string | number)[] = [0, 1];
    pushOpArgs(args, op);
    const sentAt = performance.now();
    const node = this.nodeOf(op.callerId);
    const reply = await this.calls.run(
      node,
      1,
      () => this.connection.take(keys, args, false),
      (r) => anyWrote(r, [op]),
    );
    let result: TakeResult | undefined;
    try {
      result = resultFrom(reply, op, 0, () => keys);
    } catch (err) {
      this.calls.operationFailed(node, err);
      throw err;
    }
    if (result === undefined) throw storeReplyError(reply);
    this.remember(op, result, sentAt);
    return result;
  }

  /**
   * Several operations of one turn in one call. Off a Cluster every key is declared. On a Cluster
   * the operations are those of one master (or, before the client knows the slots, of any): the
   * first key is declared (the client routes the call by it) and the others travel as arguments;
   * an operation the script answers "not here" (its slot is elsewhere, or moved) is sent again
   * on its own, and the client follows the redirection.
   */
  private sendBatch(node: string | undefined, ops: QueuedOp[]): void {
    if (this.connection.cluster && ops.length === 1) {
      for (const op of ops) this.sendOne(op).then(op.resolve, op.reject);
      return;
    }
    const keys: string[] = [];
    for (const op of ops) this.keysOf(op, keys);
    let declared = keys;
    let args: (string | number)[];
    if (this.connection.cluster) {
      declared = [keys[0]!];
      args = [keys.length - 1];
      for (let i = 1; i < keys.length; i++) args.push(this.connection.keyPrefix + keys[i]!);
    } else {
      args = [0];
    }
    args.push(ops.length);
    for (const op of ops) pushOpArgs(args, op);
    const sentAt = performance.now();
    this.calls
      .run(
        node,
        ops.length,
        () => this.connection.take(declared, args, true),
        (reply) => anyWrote(reply, ops),
      )
      .then(
        (reply) => {
          let offset = 0;
          for (const op of ops) {
            try {
              const result = resultFrom(reply, op, offset, () => this.keysOf(op));
              if (result === undefined) {
                this.sendOne(op).then(op.resolve, op.reject);
              } else {
                this.remember(op, result, sentAt);
                op.resolve(result);
              }
            } catch (err) {
              this.calls.operationFailed(node, err);
              op.reject(err);
            }
            offset += replyLength(op);
          }
        },
        (err: unknown) => {
          for (const op of ops) op.reject(err);
        },
      );
  }

  /** Remembers a denial (a take without a lockout rule) or a lock, for `takeNow` to answer. */
  private remember(op: ScriptOp & { readonly callerId: string }, result: TakeResult, sentAt: number): void {
    // An adjust reports the levels after it: remembered as a take of nothing.
    this.levels.remember(op.callerId, op.policies, result, op.kind === 'take' ? op.amount : 0, sentAt);
    if (result.allowed || op.kind !== 'take') return;
    if (op.lockout === undefined) this.denials?.remember(op.callerId, op.policies, result.levels, sentAt);
    else if (result.lockedMs !== undefined) this.locks?.remember(op.lockout.name, op.callerId, op.policies, result.levels, result.lockedMs, sentAt);
  }
}

/** Whether any operation of a reply wrote (its verdict is 1: a take allowed, or an adjust). */
function anyWrote(reply: unknown, ops: readonly ScriptOp[]): boolean {
  if (!Array.isArray(reply)) return false;
  let offset = 0;
  for (const op of ops) {
    if (Number(reply[offset]) === 1) return true;
    offset += replyLength(op);
  }
  return false;
}
