// Takes made in one turn of the event loop, sent together in as few script calls as allowed.

/** Most bucket keys in one batched call (why: see `Batcher`). */
export const MAX_BATCH_KEYS = 32;

/** Anything queued for a batch: how many bucket keys it adds to a call. */
export interface Batchable {
  readonly keyCount: number;
}

/**
 * Queues items during one turn of the event loop and hands them, at the end of the turn
 * (`setImmediate`), to `send`: grouped by `groupOf` (on a Cluster, the master that serves the
 * item's slot), in calls of at most MAX_BATCH_KEYS bucket keys, filled evenly (100 keys go as
 * 25 + 25 + 25 + 25, not 32 + 32 + 32 + 4), in the order they came. Several smaller calls rather
 * than one large one let Redis run a call while Node prepares the next and reads the last; with
 * one large call each side waits for the other (bench/README.md has the figures).
 */
export class Batcher<T extends Batchable, G> {
  private queue: T[] = [];
  private scheduled = false;
  private readonly flushNow = (): void => this.flush();

  /**
   * `waiting` holds the flush of every batcher with items queued (the client's quit hooks run
   * them, so that queued takes go out before QUIT); a batcher is in it only while it has items.
   */
  constructor(
    private readonly groupOf: (item: T) => G,
    private readonly send: (group: G, batch: T[]) => void,
    private readonly waiting: Set<() => void> = new Set(),
  ) {}

  add(item: T): void {
    this.queue.push(item);
    if (!this.scheduled) {
      this.scheduled = true;
      this.waiting.add(this.flushNow);
      setImmediate(this.flushNow);
    }
  }

  /** Sends everything queued now (at the end of the turn, or before the client quits). */
  flush(): void {
    this.scheduled = false;
    this.waiting.delete(this.flushNow);
    const queue = this.queue;
    if (queue.length === 0) return;
    this.queue = [];
    const first = this.groupOf(queue[0]!);
    let groups: Map<G, T[]> | undefined;
    for (let i = 1; i < queue.length; i++) {
      const group = this.groupOf(queue[i]!);
      if (groups === undefined && group !== first) groups = new Map([[first, queue.slice(0, i)]]);
      if (groups !== undefined) {
        const items = groups.get(group);
        if (items === undefined) groups.set(group, [queue[i]!]);
        else items.push(queue[i]!);
      }
    }
    if (groups === undefined) this.sendGroup(first, queue);
    else for (const [group, items] of groups) this.sendGroup(group, items);
  }

  private sendGroup(group: G, items: T[]): void {
    let total = 0;
    for (const item of items) total += item.keyCount;
    const perCall = Math.ceil(total / Math.ceil(total / MAX_BATCH_KEYS));
    let start = 0;
    while (start < items.length) {
      let end = start;
      let keyCount = 0;
      while (end < items.length && (end === start || keyCount + items[end]!.keyCount <= perCall)) {
        keyCount += items[end]!.keyCount;
        end++;
      }
      this.send(group, start === 0 && end === items.length ? items : items.slice(start, end));
      start = end;
    }
  }
}
