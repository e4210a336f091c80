// The RedisConnection of an ioredis client (Redis, Sentinel or Cluster), typed here without importing ioredis.
import { deleteScanned, type MemoryPolicyReport, prefixPattern, probeOnce, type RedisConnection } from './connection.js';
import { quitHooks } from './quit-hooks.js';
import { BATCH_COMMAND, TAKE_SCRIPT, takeCommand } from './script.js';
import { SLOT_COMMAND, SLOT_SCRIPT } from './slots.js';

type Command = (...keysAndArgs: (string | number)[]) => Promise<unknown>;

/** The parts of an ioredis `Redis` or `Cluster` this package uses. */
export interface IoredisLike {
  defineCommand(name: string, definition: { lua: string; numberOfKeys?: number }): void;
  readonly status: string;
  readonly options?: { keyPrefix?: unknown; autoPipeliningIgnoredCommands?: unknown };
  readonly isCluster?: boolean;
  /** Cluster: per slot, the nodes serving it (`host:port`), master first. */
  readonly slots?: unknown;
  del(...keys: string[]): Promise<unknown>;
  scan(cursor: string, patternToken: 'MATCH', pattern: string, countToken: 'COUNT', count: number): Promise<unknown>;
  config(subcommand: 'GET', parameter: string): Promise<unknown>;
  nodes?(role: 'master'): IoredisLike[];
  quit(): Promise<unknown>;
  on(event: 'ready', listener: () => void): unknown;
}

/** What the store calls on an ioredis client beyond IoredisLike, read through this type (ioredis's own types differ between Redis and Cluster). */
interface IoredisExtras {
  once?(event: 'ready', listener: () => void): unknown;
  connect?(): Promise<unknown>;
  disconnect?(reconnect?: boolean): void;
  duplicate?(override?: Record<string, unknown>): IoredisLike & IoredisExtras;
  call?(command: string): Promise<unknown>;
}

/** Statuses on the way to `ready`: a command sent now waits in the offline queue. */
const GETTING_READY = new Set(['wait', 'connecting', 'connect']);

/** Whether `value` looks like an ioredis client: what tells it apart is `defineCommand`. */
export function isIoredis(value: unknown): value is IoredisLike {
  return typeof value === 'object' && value !== null && typeof (value as IoredisLike).defineCommand === 'function';
}

export function ioredisConnection(redis: IoredisLike): RedisConnection {
  const client = redis as IoredisLike & IoredisExtras;
  const c = client as IoredisLike & Record<string, unknown>;
  const cluster = client.isCluster === true;
  const commands: Command[] = [];
  let batchCommand: Command | undefined;
  const command = (name: string, numberOfKeys?: number): Command => {
    // Once per client: clients are shared by stores.
    if (typeof c[name] !== 'function') {
      client.defineCommand(name, numberOfKeys === undefined ? { lua: TAKE_SCRIPT } : { lua: TAKE_SCRIPT, numberOfKeys });
    }
    return (c[name] as Command).bind(client);
  };
  const keyPrefix = typeof client.options?.keyPrefix === 'string' ? client.options.keyPrefix : '';
  watchReady(client, client.status === 'ready');
  let ready: Promise<void> | undefined;

  return {
    cluster,
    keyPrefix,
    get everReady() {
      return readyOnce.has(client);
    },
    prepareBatches() {
      if (batchCommand !== undefined) return;
      batchCommand = command(BATCH_COMMAND);
      bypassAutoPipelining(client, BATCH_COMMAND);
    },
    take(keys, args, batch) {
      if (batch) {
        this.prepareBatches();
        return batchCommand!(keys.length, ...keys, ...args);
      }
      commands[keys.length] ??= command(takeCommand(keys.length), keys.length);
      return commands[keys.length]!(...keys, ...args);
    },
    del: (keys) => client.del(...keys),
    slots(key, args) {
      if (typeof c[SLOT_COMMAND] !== 'function') client.defineCommand(SLOT_COMMAND, { lua: SLOT_SCRIPT, numberOfKeys: 1 });
      return (c[SLOT_COMMAND] as Command).call(client, key, ...args);
    },
    async deleteUnder(prefix) {
      // SCAN patterns do not get ioredis's keyPrefix, and the keys it answers carry it: DEL, which
      // adds it, gets them without (through the client, which routes each by its slot).
      const pattern = prefixPattern(keyPrefix + prefix);
      const masters = cluster && typeof client.nodes === 'function' ? client.nodes('master') : [client];
      const counts = await Promise.all(
        masters.map((node) =>
          deleteScanned(
            (cursor) => node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000),
            (key) => client.del(key.slice(keyPrefix.length)),
          ),
        ),
      );
      return counts.reduce((a, b) => a + b, 0);
    },
    nodeForSlot(slot) {
      if (!cluster || !Array.isArray(client.slots)) return undefined;
      const nodes = client.slots[slot] as unknown;
      return Array.isArray(nodes) && typeof nodes[0] === 'string' ? nodes[0] : undefined;
    },
    unavailable() {
      const status = client.status;
      return status === 'reconnecting' || status === 'end' || status === 'close' || status === 'disconnecting' ? status : undefined;
    },
    pending() {
      const status = client.status;
      if (!GETTING_READY.has(status)) return undefined;
      if (ready === undefined) {
        ready = new Promise<void>((resolve) => {
          const done = () => {
            ready = undefined;
            resolve();
          };
          if (typeof client.once === 'function') client.once('ready', done);
          else client.on('ready', done);
        });
        // A lazyConnect client waits for a first command to connect: the store's take is one, and
        // it is not sent before ready, so the store starts the connection.
        if (status === 'wait' && typeof client.connect === 'function') client.connect().catch(() => {});
      }
      return { status, ready };
    },
    async probe(node, timeoutMs, command = 'PING') {
      const target = (cluster ? client.nodes?.('master').find((n) => nodeName(n) === node) : client) as (IoredisLike & IoredisExtras) | undefined;
      if (target === undefined || typeof target.duplicate !== 'function') return 'no such node';
      const probe = target.duplicate({
        lazyConnect: true,
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        connectTimeout: timeoutMs,
      });
      return probeOnce(
        probe,
        () => probe.connect?.(),
        () => probe.call?.(command),
        () => probe.disconnect?.(),
        timeoutMs,
      );
    },
    replace(node) {
      // Standalone and Sentinel: the client reconnects (to the current master) as after any lost
      // connection. Cluster: only that master's connection is dropped, as when a node goes away;
      // the client finds it again from its slots.
      if (!cluster) return client.disconnect?.(true);
      const target = client.nodes?.('master').find((n) => nodeName(n) === node) as (IoredisLike & IoredisExtras) | undefined;
      target?.disconnect?.();
    },
    async memoryPolicies(): Promise<MemoryPolicyReport> {
      const masters = cluster && typeof client.nodes === 'function' ? client.nodes('master') : [client];
      return Promise.all(
        masters.map(async (node) => {
          const name = nodeName(node);
          try {
            const reply = await node.config('GET', 'maxmemory-policy');
            return { node: name, policy: Array.isArray(reply) ? String(reply[1]) : String(reply) };
          } catch (error) {
            return { node: name, error };
          }
        }),
      );
    },
    onReady(listener) {
      client.on('ready', listener);
      if (client.status === 'ready') queueMicrotask(listener);
    },
    quitHooks: quitHooks(client, ['quit']),
  };
}

/** Clients that have been ready, and clients watched for it: one listener per client, however many stores share it. */
const readyOnce = new WeakSet<object>();
const watching = new WeakSet<object>();

function watchReady(client: IoredisLike, readyNow: boolean): void {
  if (readyNow) readyOnce.add(client);
  if (watching.has(client)) return;
  watching.add(client);
  client.on('ready', () => void readyOnce.add(client));
}

function nodeName(node: IoredisLike): string {
  const o = node.options as { host?: unknown; port?: unknown } | undefined;
  return o?.host !== undefined ? `${String(o.host)}:${String(o.port)}` : 'redis';
}

/**
 * Sends `command` outside ioredis auto-pipelining, by adding it to the client's
 * `autoPipeliningIgnoredCommands` (a new array: the caller's own is left as it was). A batched take
 * is already one call for a whole turn of the event loop: auto-pipelining would only hold it to the
 * next tick and queue it behind the turn's other commands.
 */
function bypassAutoPipelining(client: IoredisLike, command: string): void {
  const options = client.options as { autoPipeliningIgnoredCommands?: unknown } | undefined;
  if (typeof options !== 'object' || options === null) return;
  const ignored = Array.isArray(options.autoPipeliningIgnoredCommands) ? (options.autoPipeliningIgnoredCommands as string[]) : [];
  if (!ignored.includes(command)) options.autoPipeliningIgnoredCommands = [...ignored, command];
}
