// Takes made in one turn of the event loop, sent together in as few script calls as allowed.

/** Most bucket keys in one batched call (why: see `Batcher`). */
export const MAX_BATCH_KEYS = 32;

/** Anything queued for a batch: how many bucket keys it adds to a call. */
export interface Batchable {
  readonly keyCount: number;
}

/**
 * Queues items during one turn of the event loop and hands them, at the end of the turn
 * (`setImmediate`), to `send` in calls of at most MAX_BATCH_KEYS bucket keys, filled evenly (100
 * keys go as 25 + 25 + 25 + 25, not 32 + 32 + 32 + 4), in the order they came. Several smaller
 * calls rather than one large one let Redis run a call while Node prepares the next and reads
 * the last; with one large call each side waits for the other (bench/README.md has the figures).
 */
export class Batcher<T extends Batchable> {
  private queue: T[] = [];
  private scheduled = false;

  constructor(private readonly send: (batch: T[], keyCount: number) => void) {}

  add(item: T): void {
    this.queue.push(item);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Sends everything queued now. */
  flush(): void {
    this.scheduled = false;
    const queue = this.queue;
    if (queue.length === 0) return;
    this.queue = [];
    let total = 0;
    for (const item of queue) total += item.keyCount;
    const perCall = Math.ceil(total / Math.ceil(total / MAX_BATCH_KEYS));
    let start = 0;
    while (start < queue.length) {
      let end = start;
      let keyCount = 0;
      while (end < queue.length && (end === start || keyCount + queue[end]!.keyCount <= perCall)) {
        keyCount += queue[end]!.keyCount;
        end++;
      }
      this.send(queue.slice(start, end), keyCount);
      start = end;
    }
  }
}
