// A circuit breaker for a store: stop paying the timeout on every request while it is down.
import { invalidOption } from '../errors.js';
import type { StoreStatusEvent } from './types.js';

export interface BreakerOptions {
  /**
   * Consecutive failures (errors or time-outs) that open the circuit. While open, takes fail at
   * once, without touching the store, and the limiter answers by `onStoreError`.
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

type Listener = (event: StoreStatusEvent) => void;

export class CircuitBreaker {
  readonly failureThreshold: number;
  readonly cooldownMs: number;
  private state: 'closed' | 'open' | 'probing' = 'closed';
  private failures = 0;
  private openedAt = 0;
  private readonly listeners = new Set<Listener>();

  constructor(
    options: BreakerOptions = {},
    private readonly clock: () => number = () => performance.now(),
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

  success(): void {
    this.failures = 0;
    if (this.state !== 'closed') {
      this.state = 'closed';
      this.emit({ status: 'up' });
    }
  }

  failure(error: unknown): void {
    if (this.state === 'probing') {
      this.state = 'open';
      this.openedAt = this.clock();
      return;
    }
    if (this.state === 'closed' && ++this.failures >= this.failureThreshold) {
      this.state = 'open';
      this.openedAt = this.clock();
      this.emit({ status: 'down', error });
    }
  }

  /** Calls `listener` on every transition; returns the function that stops it. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  private emit(event: StoreStatusEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        process.emitWarning(`tokenbucket: a store status listener threw: ${err instanceof Error ? err.message : String(err)}`, 'TokenBucketWarning');
      }
    }
  }
}
