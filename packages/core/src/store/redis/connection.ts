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
  /**
   * Why no command can be sent now and none will be soon (the client is reconnecting, closing or
   * closed; node-redis: not ready), or undefined.
   */
  unavailable(): string | undefined;
  /**
   * While the client is on its way to ready (ioredis: `wait`, `connecting`, `connect`, which
   * includes a Redis still loading its data): its status now and a promise of its next `ready`;
   * undefined when it is ready. A command sent now would wait in the client's offline queue and run
   * whenever the client gets there, so the store sends nothing before that promise resolves.
   */
  pending(): { readonly status: string; readonly ready: Promise<void> } | undefined;
  /** Whether the client has been ready since the store was made. */
  readonly everReady: boolean;
  /**
   * Opens a connection of its own with the client's options to `node` (or the one server), sends
   * `command` (PING by default), and closes it: the reply (`'PONG'`), or what failed (a Redis
   * error, a connection error, or `'timeout'` after `timeoutMs`). Undefined where the client
   * cannot be duplicated.
   */
  probe?(node: string | undefined, timeoutMs: number, command?: string): Promise<unknown>;
  /**
   * Drops the client's connection (on a Cluster, every one) so that it connects again, as after
   * any lost connection; undefined where the client cannot do that without being closed for good.
   */
  replace?(node: string | undefined): void;
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

/**
 * `RedisConnection.probe`'s common part, for any client: connects `probe` (a fresh connection with
 * the client's options), sends one command, and closes it; resolves to the reply, to what refused
 * the connection (its 'error' event says why it closed, WRONGPASS...; `connect()` only says that it
 * closed), or to `'timeout'` after `timeoutMs`.
 */
export async function probeOnce(
  probe: object,
  connect: () => Promise<unknown> | undefined,
  send: () => Promise<unknown> | undefined,
  close: () => void,
  timeoutMs: number,
): Promise<unknown> {
  let refused: unknown;
  (probe as { on(event: string, listener: (err: unknown) => void): void }).on('error', (err) => {
    refused ??= err;
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    return await Promise.race([
      (async () => {
        await connect();
        return send();
      })().catch((err: unknown) => refused ?? err),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
    close();
  }
}
