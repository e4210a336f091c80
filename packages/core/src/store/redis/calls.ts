// Every call a RedisStore makes: per-node circuit breaker, time budget, and what it publishes.
import { errorCode, type StoreStatusChange, storeCallChannel, storeErrorChannel, storeStatusChannel } from '../../diagnostics.js';
import { callUserCode, TokenBucketError } from '../../errors.js';
import { type BreakerOptions, type BreakerTransition, CircuitBreaker } from '../breaker.js';
import type { TimeBudget } from './budget.js';
import type { RedisConnection } from './connection.js';
import { StoreHealth } from './health.js';

type Listener = (event: StoreStatusChange) => void;

/**
 * Runs a store's calls to Redis. Each node has its own circuit breaker (a standalone server or a
 * Sentinel group is one node, `undefined`; on a Cluster each master is one), so a dead master
 * only fails the callers whose slots it serves. Every call is bounded by the store's budget, and
 * never sent while the client is not ready: the client's offline queue would replay it, and
 * debit tokens, long after its request was answered. A client on its way to ready (connecting,
 * or connected to a Redis still loading its data) is waited for within the budget; past it the
 * take fails without having been sent.
 */
export class StoreCalls {
  private readonly breakers = new Map<string | undefined, CircuitBreaker>();
  private readonly listeners = new Set<Listener>();
  private readonly health: StoreHealth;

  constructor(
    private readonly store: string,
    private readonly connection: RedisConnection,
    private readonly budget: TimeBudget,
    private readonly breakerOptions: BreakerOptions | undefined,
    prefix = 'tb:',
  ) {
    this.health = new StoreHealth(store, prefix, connection, budget.timeoutMs);
    this.breaker(undefined); // validates the breaker options now, not on the first call
  }

  /**
   * Runs `call` for `node` within its breaker and the budget; `takes` is what it carries, for
   * diagnostics; `wrote` tells from the reply whether the call debited a bucket (after refused
   * writes, only a call that wrote shows the store works again).
   */
  async run<T>(node: string | undefined, takes: number, call: () => Promise<T>, wrote?: (reply: T) => boolean): Promise<T> {
    const breaker = this.breaker(node);
    if (!breaker.allow()) {
      const where = node === undefined ? 'Redis is' : `Redis node ${node} is`;
      throw new TokenBucketError('TB_ERR_STORE_CIRCUIT_OPEN', `${where} being bypassed after repeated failures (circuit open).`);
    }
    const started = performance.now();
    let sent = false;
    let result: T;
    try {
      const status = this.connection.unavailable();
      if (status !== undefined) {
        throw new TokenBucketError('TB_ERR_STORE_UNAVAILABLE', `the Redis client is not connected (status "${status}").`);
      }
      const pending = this.connection.pending();
      if (pending === undefined) {
        sent = true;
        result = await this.budget.run(call());
      } else {
        let expired = false;
        const later = pending.ready.then(() => {
          if (expired) throw new TokenBucketError('TB_ERR_STORE_UNAVAILABLE', 'not sent: the client became ready after the time budget.');
          sent = true;
          return call();
        });
        try {
          result = await this.budget.run(later);
        } catch (error) {
          expired = true;
          if (sent) throw error;
          throw new TokenBucketError(
            'TB_ERR_STORE_UNAVAILABLE',
            `the Redis client was not ready within the time budget (status "${pending.status}"); the take was not sent.`,
          );
        }
      }
    } catch (error) {
      breaker.failure(error, this.health.failed(node, error, sent, started));
      if (storeErrorChannel.hasSubscribers) storeErrorChannel.publish({ store: this.store, node, code: errorCode(error), error });
      if (storeCallChannel.hasSubscribers) this.published(node, takes, started, false);
      throw error;
    }
    this.health.answered(node);
    breaker.success(wrote === undefined ? true : wrote(result));
    if (storeCallChannel.hasSubscribers) this.published(node, takes, started, true);
    return result;
  }

  /**
   * Publishes the failure of one operation of a call that succeeded (a key holding another type,
   * a reply not the script's): on the error channel, not to the breaker, since the node answered.
   */
  operationFailed(node: string | undefined, error: unknown): void {
    if (storeErrorChannel.hasSubscribers) storeErrorChannel.publish({ store: this.store, node, code: errorCode(error), error });
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  private breaker(node: string | undefined): CircuitBreaker {
    let breaker = this.breakers.get(node);
    if (breaker === undefined) {
      breaker = new CircuitBreaker(this.breakerOptions, undefined, this.budget.timeoutMs);
      breaker.subscribe((event) => this.changed(node, event));
      this.breakers.set(node, breaker);
    }
    return breaker;
  }

  private changed(node: string | undefined, transition: BreakerTransition): void {
    const change: StoreStatusChange = { store: this.store, node, ...transition };
    if (storeStatusChannel.hasSubscribers) storeStatusChannel.publish(change);
    for (const listener of this.listeners) callUserCode('TB_WARN_LISTENER_FAILED', 'a store status listener', () => listener(change));
  }

  private published(node: string | undefined, takes: number, started: number, ok: boolean): void {
    storeCallChannel.publish({ store: this.store, node, durationMs: performance.now() - started, takes, ok });
  }
}
