// What RedisStore needs of a Redis client, whichever library it comes from.

/** Every master's `maxmemory-policy`, or why it could not be read. */
export type MemoryPolicyReport = { readonly node: string; readonly policy?: string; readonly error?: unknown }[];

/**
 * A Redis client as the store uses it: the take script, DEL, which master serves a slot, whether
 * commands can be sent now, and the client's life cycle. One implementation per client library.
 */
export interface RedisConnection {
  /** True on a Redis Cluster. */
  readonly cluster: boolean;
  /** What the client prepends to declared keys (ioredis `keyPrefix`), for keys sent as arguments. */
  readonly keyPrefix: string;
  /**
   * Runs the take script with `keys` declared and `args` after them (EVALSHA, and EVAL when the
   * server answers NOSCRIPT); on a Cluster the client routes it by the first key. `batch` calls
   * carry several takes and skip the client's auto-pipelining.
   */
  take(keys: readonly string[], args: readonly (string | number)[], batch: boolean): Promise<unknown>;
  /** Prepares batched calls (the store batches): defines their command, takes it out of auto-pipelining. */
  prepareBatches(): void;
  /** Deletes keys that share one slot. */
  del(keys: readonly string[]): Promise<unknown>;
  /** The master (`host:port`) that serves `slot`, as the client knows it now; undefined off a Cluster or when unknown. */
  nodeForSlot(slot: number): string | undefined;
  /** Why no command can be sent now (the client is reconnecting, closing or closed), or undefined. */
  unavailable(): string | undefined;
  /** Reads `maxmemory-policy` from every master. */
  memoryPolicies(): Promise<MemoryPolicyReport>;
  /** Calls `listener` each time the client is ready (connected, or reconnected). */
  onReady(listener: () => void): void;
  /**
   * The functions to call when the client is asked to quit, before it sends QUIT: one set per
   * client, shared by the stores on it (each adds its flush only while it holds takes).
   */
  readonly quitHooks: Set<() => void>;
}
