// The time budget of one store's calls: a call Redis has not answered in time fails.
import { TokenBucketError } from '../../errors.js';

/** A call in flight and when it runs out. */
interface Pending {
  deadline: number;
  reject: (err: Error) => void;
}

/**
 * Bounds every call of one store to `timeoutMs`. One timer per store checks the calls in flight
 * every tenth of the budget (5 to 50 ms), instead of a timer per call (a timer costs more than
 * a call's own bookkeeping on the hot path): a call that runs out is rejected with
 * TB_ERR_STORE_TIMEOUT between `timeoutMs` and `timeoutMs` plus one tick. The timer runs only while
 * calls are in flight, and never keeps the process alive.
 *
 * The budget measures Redis, not the event loop. Timers run before the event loop reads its
 * sockets: after the loop was blocked (a long synchronous task in the app), the timer finds
 * calls past their deadline whose replies are already waiting to be read. So a call found late
 * is rejected only after one more turn has read what arrived (`setImmediate` runs after the
 * loop's I/O): a reply that is there is never a time-out, however long the loop was blocked.
 */
export class TimeBudget {
  readonly tickMs: number;
  private readonly pending = new Set<Pending>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly timeoutMs: number,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.tickMs = Math.max(5, Math.min(50, Math.floor(timeoutMs / 10)));
  }

  /** Settles like `promise`, or rejects with TB_ERR_STORE_TIMEOUT when it has not settled in time. */
  run<T>(promise: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const call: Pending = { deadline: this.clock() + this.timeoutMs, reject };
      this.pending.add(call);
      if (this.timer === undefined) this.start();
      promise.then(
        (value) => {
          this.pending.delete(call);
          resolve(value);
        },
        (err: unknown) => {
          this.pending.delete(call);
          reject(err);
        },
      );
    });
  }

  private start(): void {
    this.timer = setInterval(() => this.sweep(), this.tickMs);
    this.timer.unref();
  }

  private sweep(): void {
    if (this.pending.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    const now = this.clock();
    const late: Pending[] = [];
    for (const call of this.pending) if (call.deadline <= now) late.push(call);
    if (late.length > 0) setImmediate(() => this.expire(late));
  }

  /** Rejects the calls still pending after the event loop has read its sockets once more. */
  private expire(late: Pending[]): void {
    for (const call of late) {
      if (this.pending.delete(call)) {
        call.reject(new TokenBucketError('TB_ERR_STORE_TIMEOUT', `Redis did not answer within ${this.timeoutMs} ms (timeoutMs).`));
      }
    }
  }
}
