// Every call a RedisStore makes: per-node circuit breaker, time budget, and what it publishes.
import { errorCode, storeCallChannel, storeErrorChannel, storeStatusChannel } from '../../diagnostics.js';
import { TokenBucketError } from '../../errors.js';
import { type BreakerOptions, CircuitBreaker } from '../breaker.js';
import type { StoreStatusEvent } from '../types.js';
import type { TimeBudget } from './budget.js';
import type { RedisConnection } from './connection.js';

type Listener = (event: StoreStatusEvent) => void;

/**
 * Runs a store's calls to Redis. Each node has its own circuit breaker (a standalone server or a
 * Sentinel group is one node, `undefined`; on a Cluster each master is one), so a dead master
 * only fails the callers whose slots it serves. Every call is bounded by the store's budget, and
 * never sent while the client is not connected: the client's offline queue would replay it, and
 * debit tokens, long after its request was answered.
 */
export class StoreCalls {
  private readonly breakers = new Map<string | undefined, CircuitBreaker>();
  private readonly listeners = new Set<Listener>();

  constructor(
    private readonly store: string,
    private readonly connection: RedisConnection,
    private readonly budget: TimeBudget,
    private readonly breakerOptions: BreakerOptions | undefined,
  ) {
    this.breaker(undefined); // validates the breaker options now, not on the first call
  }

  /** Runs `call` for `node` within its breaker and the budget; `takes` is what it carries, for diagnostics. */
  async run<T>(node: string | undefined, takes: number, call: () => Promise<T>): Promise<T> {
    const breaker = this.breaker(node);
    if (!breaker.allow()) {
      const where = node === undefined ? 'Redis is' : `Redis node ${node} is`;
      throw new TokenBucketError('STORE_CIRCUIT_OPEN', `${where} being bypassed after repeated failures (circuit open).`);
    }
    const started = storeCallChannel.hasSubscribers ? performance.now() : 0;
    let result: T;
    try {
      const status = this.connection.unavailable();
      if (status !== undefined) {
        throw new TokenBucketError('STORE_UNAVAILABLE', `the Redis client is not connected (status "${status}").`);
      }
      result = await this.budget.run(call());
    } catch (error) {
      breaker.failure(error);
      if (storeErrorChannel.hasSubscribers) storeErrorChannel.publish({ store: this.store, node, code: errorCode(error), error });
      if (started !== 0) this.published(node, takes, started, false);
      throw error;
    }
    breaker.success();
    if (started !== 0) this.published(node, takes, started, true);
    return result;
  }

  /**
   * Publishes the failure of one operation of a call that succeeded (a key holding another type,
   * a reply not the script's): on the error channel, not to the breaker, since the node answered.
   */
  operationFailed(node: string | undefined, error: unknown): void {
    if (storeErrorChannel.hasSubscribers) storeErrorChannel.publish({ store: this.store, node, code: errorCode(error), error });
  }

  /** The error for a reply that is not the script's. */
  replyError(reply: unknown): TokenBucketError {
    return new TokenBucketError('STORE_REPLY', `unexpected reply from the take script: ${JSON.stringify(reply)}`);
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  private breaker(node: string | undefined): CircuitBreaker {
    let breaker = this.breakers.get(node);
    if (breaker === undefined) {
      breaker = new CircuitBreaker(this.breakerOptions);
      breaker.subscribe((event) => this.changed(node, event));
      this.breakers.set(node, breaker);
    }
    return breaker;
  }

  private changed(node: string | undefined, event: StoreStatusEvent): void {
    const withNode: StoreStatusEvent = node === undefined ? event : { ...event, node };
    if (storeStatusChannel.hasSubscribers) storeStatusChannel.publish({ store: this.store, node, ...event });
    for (const listener of this.listeners) {
      try {
        listener(withNode);
      } catch (err) {
        process.emitWarning(`tokenbucket: a store status listener threw: ${err instanceof Error ? err.message : String(err)}`, 'TokenBucketWarning');
      }
    }
  }

  private published(node: string | undefined, takes: number, started: number, ok: boolean): void {
    storeCallChannel.publish({ store: this.store, node, durationMs: performance.now() - started, takes, ok });
  }
}
