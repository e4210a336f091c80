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
   * Runs the script (takes and adjusts) with `keys` declared and `args` after them (EVALSHA, and EVAL when the
   * server answers NOSCRIPT); on a Cluster the client routes it by the first key. `batch` calls
   * carry several takes and skip the client's auto-pipelining.
   */
  take(keys: readonly string[], args: readonly (string | number)[], batch: boolean): Promise<unknown>;
  /** Runs the concurrency slot script (store/redis/slots.ts) on one key; routed by that key on a Cluster. */
  slots(key: string, args: readonly string[]): Promise<unknown>;
  /** Prepares batched calls (the store batches): defines their command, takes it out of auto-pipelining. */
  prepareBatches(): void;
  /** Deletes keys that share one slot. */
  del(keys: readonly string[]): Promise<unknown>;
  /**
   * Deletes every key that starts with `prefix` (after the client's own `keyPrefix`), on every
   * master, by SCAN and one DEL per key; resolves with the number deleted. For tests.
   */
  deleteUnder(prefix: string): Promise<number>;
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

/** A SCAN pattern that matches the keys starting with `prefix`, whatever glob characters it holds. */
export function prefixPattern(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
}

/**
 * Deletes the keys one server holds under `pattern`: SCAN, then DEL per key (on a Cluster node, a
 * DEL of keys in several slots is refused even when the node serves them all). `scan` answers
 * `[cursor, keys]`; keys are handed to `del` as SCAN gave them.
 */
export async function deleteScanned(scan: (cursor: string) => Promise<unknown>, del: (key: string) => Promise<unknown>): Promise<number> {
  let deleted = 0;
  let cursor = '0';
  do {
    const reply = (await scan(cursor)) as [unknown, unknown];
    cursor = String(reply[0]);
    const keys = (reply[1] as unknown[]).map(String);
    const counts = await Promise.all(keys.map((key) => del(key)));
    for (const n of counts) deleted += Number(n);
  } while (cursor !== '0');
  return deleted;
}
