// A circuit breaker for a store: stop paying the timeout on every request while it is down.
import { callUserCode, invalidOption } from '../errors.js';

export interface BreakerOptions {
  /**
   * Failures (errors or time-outs), with no success between them, that open the circuit. Failures
   * are counted in time, not per call: the failures of one moment (every call in flight when Redis
   * stalls) are one failure; on RedisStore a moment is the store's `timeoutMs`. While open, takes
   * fail at once, without touching the store, and the limiter answers by `storeFailure`.
   * @default 3
   */
  failureThreshold?: number;
  /**
   * Ms the circuit stays open before one take is let through as a probe. The probe's success
   * closes the circuit; its failure opens it for another cool-down.
   * @default 1000
   */
  cooldownMs?: number;
}

/** A change of the circuit: the store adds its name and node (a StoreStatusChange). */
export interface BreakerTransition {
  readonly status: 'down' | 'up';
  readonly error?: unknown;
}

type Listener = (transition: BreakerTransition) => void;

export class CircuitBreaker {
  readonly failureThreshold: number;
  readonly cooldownMs: number;
  private state: 'closed' | 'open' | 'probing' = 'closed';
  private failures = 0;
  private openedAt = 0;
  /** When the failure last counted began: failures within `windowMs` of it are the same failure. */
  private countedAt = -Infinity;
  /**
   * The last failure was a refused write (OOM, READONLY, NOPERM): the store answers, but cannot
   * debit. Until a call that wrote succeeds, a call that only read (a denial) proves nothing.
   */
  private refusing = false;
  private readonly listeners = new Set<Listener>();

  /**
   * `windowMs`: failures closer together than this count as one (0: every failure counts). A
   * store uses its time budget: the calls that one stall makes time out within it.
   */
  constructor(
    options: BreakerOptions = {},
    private readonly clock: () => number = () => performance.now(),
    readonly windowMs = 0,
  ) {
    const { failureThreshold = 3, cooldownMs = 1000 } = options;
    if (!Number.isSafeInteger(failureThreshold) || failureThreshold < 1) {
      invalidOption('breaker.failureThreshold', failureThreshold, 'an integer >= 1');
    }
    if (typeof cooldownMs !== 'number' || !Number.isFinite(cooldownMs) || cooldownMs < 0) {
      invalidOption('breaker.cooldownMs', cooldownMs, 'a finite number of milliseconds >= 0');
    }
    this.failureThreshold = failureThreshold;
    this.cooldownMs = cooldownMs;
  }

  /** True while calls go to the store as usual. */
  get closed(): boolean {
    return this.state === 'closed';
  }

  /**
   * Whether a call may go to the store now. Closed: yes. Open: no, until the cool-down has
   * passed; then yes for exactly one call (the probe) until it reports back.
   */
  allow(): boolean {
    if (this.state === 'closed') return true;
    if (this.state === 'open' && this.clock() - this.openedAt >= this.cooldownMs) {
      this.state = 'probing';
      return true;
    }
    return false;
  }

  /**
   * A call succeeded. `wrote`: it debited a bucket (false for a call that only read, a denial).
   * After refused writes, only a call that wrote shows the store works: one that only read leaves
   * the count as it was, and a probe that only read keeps the circuit open for another cool-down.
   */
  success(wrote = true): void {
    if (this.refusing && !wrote) {
      if (this.state === 'probing') {
        this.state = 'open';
        this.openedAt = this.clock();
      }
      return;
    }
    this.refusing = false;
    this.failures = 0;
    this.countedAt = -Infinity;
    if (this.state !== 'closed') {
      this.state = 'closed';
      this.emit({ status: 'up' });
    }
  }

  /**
   * A call failed. `refusedWrite`: the store answered but refused to write (OOM, READONLY,
   * NOPERM); that opens the circuit at once, and only a call that writes closes it again.
   */
  failure(error: unknown, refusedWrite = false): void {
    this.refusing = refusedWrite;
    const now = this.clock();
    if (this.state === 'probing') {
      this.state = 'open';
      this.openedAt = now;
      return;
    }
    if (this.state !== 'closed' || (now - this.countedAt < this.windowMs && !refusedWrite)) return;
    this.countedAt = now;
    // A refused write is no passing fault: Redis answered, and will answer the same until an
    // operator acts. It opens the circuit at once.
    if (++this.failures >= this.failureThreshold || refusedWrite) {
      this.state = 'open';
      this.openedAt = now;
      this.emit({ status: 'down', error });
    }
  }

  /** Calls `listener` on every transition; returns the function that stops it. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  private emit(transition: BreakerTransition): void {
    for (const listener of this.listeners) callUserCode('TB_WARN_LISTENER_FAILED', 'a store status listener', () => listener(transition));
  }
}
