// The RedisConnection of a node-redis client (`redis` 4 to 6: createClient or createCluster), typed here.
import { deleteScanned, type MemoryPolicyReport, prefixPattern, probeOnce, type RedisConnection } from './connection.js';
import { quitHooks } from './quit-hooks.js';
import { TAKE_SCRIPT, TAKE_SCRIPT_SHA1 } from './script.js';
import { SLOT_SCRIPT, SLOT_SCRIPT_SHA1 } from './slots.js';

type Args = string[];

/** The parts of a node-redis client (`createClient`) this package uses. */
export interface NodeRedisClientLike {
  sendCommand(args: Args): Promise<unknown>;
  readonly isOpen: boolean;
  readonly isReady: boolean;
  on(event: 'ready', listener: () => void): unknown;
  duplicate?(): NodeRedisClientLike;
  connect?(): Promise<unknown>;
  /** node-redis 5 and 6 (`disconnect` there is its older name). */
  destroy?(): unknown;
  /** node-redis 4. */
  disconnect?(): Promise<unknown>;
}

/** The parts of a node-redis cluster (`createCluster`) this package uses. */
export interface NodeRedisClusterLike {
  sendCommand(firstKey: string | undefined, isReadonly: boolean | undefined, args: Args): Promise<unknown>;
  getSlotMaster(slot: number): { host: string; port: number } | undefined;
  readonly masters: readonly { host: string; port: number }[];
  nodeClient(node: { host: string; port: number }): unknown;
  readonly isOpen: boolean;
}

export type NodeRedisLike = NodeRedisClientLike | NodeRedisClusterLike;

/** Whether `value` looks like a node-redis client or cluster (and not an ioredis one). */
export function isNodeRedis(value: unknown): value is NodeRedisLike {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.sendCommand === 'function' && typeof v.defineCommand !== 'function' && 'isOpen' in v;
}

function isNodeRedisCluster(value: NodeRedisLike): value is NodeRedisClusterLike {
  return typeof (value as NodeRedisClusterLike).getSlotMaster === 'function';
}

export function nodeRedisConnection(client: NodeRedisLike): RedisConnection {
  const cluster = isNodeRedisCluster(client);
  const send = cluster
    ? (firstKey: string | undefined, args: Args) => client.sendCommand(firstKey, false, args)
    : (_firstKey: string | undefined, args: Args) => (client as NodeRedisClientLike).sendCommand(args);

  /** EVALSHA, and EVAL when the server does not know the script yet (a restart, a failover, SCRIPT FLUSH). */
  const evalTake = async (keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> => {
    const tail: Args = [String(keys.length)];
    for (const key of keys) tail.push(key);
    for (const arg of args) tail.push(typeof arg === 'string' ? arg : String(arg));
    try {
      return await send(keys[0], ['EVALSHA', TAKE_SCRIPT_SHA1, ...tail]);
    } catch (err) {
      if (!String((err as Error | undefined)?.message).startsWith('NOSCRIPT')) throw err;
      return send(keys[0], ['EVAL', TAKE_SCRIPT, ...tail]);
    }
  };

  /** The slot script, as evalTake runs the take script. */
  const evalSlots = async (key: string, args: readonly string[]): Promise<unknown> => {
    try {
      return await send(key, ['EVALSHA', SLOT_SCRIPT_SHA1, '1', key, ...args]);
    } catch (err) {
      if (!String((err as Error | undefined)?.message).startsWith('NOSCRIPT')) throw err;
      return send(key, ['EVAL', SLOT_SCRIPT, '1', key, ...args]);
    }
  };
  if (!cluster) {
    const c = client as NodeRedisClientLike;
    if (c.isReady) readyOnce.add(c);
    if (!watching.has(c)) {
      watching.add(c);
      c.on('ready', () => void readyOnce.add(c));
    }
  }
  const close = (c: NodeRedisClientLike): Promise<unknown> => Promise.resolve(typeof c.destroy === 'function' ? c.destroy() : c.disconnect?.());

  return {
    cluster,
    keyPrefix: '',
    slots: evalSlots,
    get everReady() {
      return cluster ? client.isOpen : readyOnce.has(client);
    },
    pending: () => undefined,
    prepareBatches() {},
    take: (keys, args) => evalTake(keys, args),
    del: (keys) => send(keys[0], ['DEL', ...keys]),
    async deleteUnder(prefix) {
      const scanOn = (node: NodeRedisClientLike) => (cursor: string) => node.sendCommand(['SCAN', cursor, 'MATCH', prefixPattern(prefix), 'COUNT', '1000']);
      const del = (key: string) => send(key, ['DEL', key]);
      if (!cluster) return deleteScanned(scanOn(client as NodeRedisClientLike), del);
      const counts = await Promise.all(
        client.masters.map(async (master) => deleteScanned(scanOn((await client.nodeClient(master)) as NodeRedisClientLike), del)),
      );
      return counts.reduce((a, b) => a + b, 0);
    },
    nodeForSlot(slot) {
      if (!cluster) return undefined;
      const master = client.getSlotMaster(slot);
      return master === undefined ? undefined : `${master.host}:${master.port}`;
    },
    unavailable() {
      if (cluster) return client.isOpen ? undefined : 'closed';
      const c = client as NodeRedisClientLike;
      // isOpen first: from quit()/close() on, the client refuses commands while still isReady.
      return !c.isOpen ? 'closed' : c.isReady ? undefined : 'reconnecting';
    },
    ...(cluster
      ? {}
      : {
          async probe(_node: string | undefined, timeoutMs: number, command = 'PING'): Promise<unknown> {
            const c = client as NodeRedisClientLike;
            if (typeof c.duplicate !== 'function') return 'no duplicate';
            const probe = c.duplicate();
            return probeOnce(
              probe,
              () => probe.connect?.(),
              () => probe.sendCommand([command]),
              () => void close(probe).catch(() => {}),
              timeoutMs,
            );
          },
          replace(): void {
            // node-redis cannot drop its connection and keep the client open: closing it and
            // connecting again is what it offers (its commands in flight fail; it emits 'end', then
            // 'connect' and 'ready').
            const c = client as NodeRedisClientLike;
            if (typeof c.connect !== 'function') return;
            close(c)
              .then(() => c.connect?.())
              .catch(() => {});
          },
        }),
    async memoryPolicies(): Promise<MemoryPolicyReport> {
      const read = async (node: string, run: () => Promise<unknown>) => {
        try {
          return { node, policy: policyOf(await run()) };
        } catch (error) {
          return { node, error };
        }
      };
      const command: Args = ['CONFIG', 'GET', 'maxmemory-policy'];
      if (!cluster) return [await read('redis', () => (client as NodeRedisClientLike).sendCommand(command))];
      return Promise.all(
        client.masters.map((master) =>
          read(`${master.host}:${master.port}`, async () => ((await client.nodeClient(master)) as NodeRedisClientLike).sendCommand(command)),
        ),
      );
    },
    onReady(listener) {
      if (cluster) {
        // A cluster is ready once connect() has found its masters: before that (connect() not
        // called yet, or still discovering the slots) there is no master to ask. node-redis 4 emits
        // no event for it (5 and 6 emit 'connect'), so look again every 50 ms until it is, on an
        // unref'd timer that never keeps the process alive. Once only: reconnections of the
        // cluster's node clients are not followed.
        const ready = () => client.isOpen && client.masters.length > 0;
        if (ready()) {
          queueMicrotask(listener);
          return;
        }
        const timer = setInterval(() => {
          if (!ready()) return;
          clearInterval(timer);
          listener();
        }, 50);
        timer.unref();
        return;
      }
      const c = client as NodeRedisClientLike;
      c.on('ready', listener);
      if (c.isReady) queueMicrotask(listener);
    },
    quitHooks: quitHooks(client, ['quit', 'close']),
  };
}

/** Clients that have been ready, and clients watched for it: one listener per client, however many stores share it. */
const readyOnce = new WeakSet<object>();
const watching = new WeakSet<object>();

/** `CONFIG GET` answers a flat array (RESP2) or a map (node-redis 6). */
function policyOf(reply: unknown): string {
  if (Array.isArray(reply)) return String(reply[1]);
  if (reply !== null && typeof reply === 'object') return String((reply as Record<string, unknown>)['maxmemory-policy']);
  return String(reply);
}
