// The Redis client libraries RedisStore supports, one entry per tested version (ioredis 5 and 6,
// node-redis 4, 5 and 6): each opens a standalone client on REDIS_URL and a Cluster client on
// REDIS_CLUSTER_NODES, connected, and closes what it opened.
import type { RedisStoreOptions } from '@tokenbucket/core';
import { Cluster as Cluster5, Redis as Redis5 } from 'ioredis';
import { Cluster as Cluster6, Redis as Redis6 } from 'ioredis6';
import { createClient as createClient4, createCluster as createCluster4 } from 'redis4';
import { createClient as createClient5, createCluster as createCluster5 } from 'redis5';
import { createClient as createClient6, createCluster as createCluster6 } from 'redis6';
import { clusterNodes } from './cluster';
import { redisUrl } from './redis';

/** What RedisStore takes as `client`. */
export type StoreClient = RedisStoreOptions['client'];

export interface ClientOptions {
  /** Connect here instead of REDIS_URL (standalone only), e.g. through a test's TCP proxy. */
  url?: string;
  /** Never reconnect, and never queue a command while disconnected: a fault fails at once. */
  noRetry?: boolean;
  /** Wait this long between reconnection attempts (node-redis makes its first one at once). */
  reconnectDelayMs?: number;
  /** ioredis `enableAutoPipelining`. node-redis has no such option (it writes the commands of one tick together anyway): ignored. */
  autoPipelining?: boolean;
  /** Open the client without connecting it (node-redis only: ioredis connects by itself); `connect()` does. */
  connect?: false;
  /** ioredis options the ioredis-only cases set; ignored by node-redis. */
  ioredis?: { keyPrefix?: string; maxRetriesPerRequest?: number; autoPipeliningIgnoredCommands?: string[] };
}

/** One client, opened and connected, with what the tests do to it in each library's own terms. */
export interface TestClient {
  readonly kind: ClientKind;
  /** The library's own client object, as the user would pass it to RedisStore. */
  readonly client: StoreClient;
  /** Whether the client can send commands now. */
  readonly ready: boolean;
  /** Connects a client opened with `connect: false`. */
  connect(): Promise<void>;
  /** Sends one command on this client (on a Cluster, routed by `key`). */
  send(args: (string | number)[], key?: string): Promise<unknown>;
  /** Resolves on the client's next `ready` or `reconnecting` event. */
  next(event: 'ready' | 'reconnecting'): Promise<void>;
  /** Closes gracefully, the library's way (ioredis and node-redis 4: `quit()`; node-redis 5 and 6: `close()`). */
  quit(): Promise<void>;
  /** Drops the connection at once, without QUIT (ioredis `disconnect()`, node-redis `destroy()` or `disconnect()`). */
  drop(): void;
  /** Closes it for good, whatever its state. */
  close(): Promise<void>;
}

/** One version of one client library. */
export interface ClientKind {
  /** e.g. "node-redis 5" */
  readonly name: string;
  /** For key prefixes and file names, e.g. "node-redis-5". */
  readonly id: string;
  readonly library: 'ioredis' | 'node-redis';
  /**
   * The client settings a case that depends on them runs with: ioredis with auto-pipelining off
   * and on; node-redis with its defaults.
   */
  readonly variants: readonly { readonly label: string; readonly options: ClientOptions }[];
  open(target: 'standalone' | 'cluster', options?: ClientOptions): Promise<TestClient>;
}

// ---- ioredis ----

/** What the tests use of an ioredis Redis or Cluster, 5 or 6. */
interface Ioredis {
  readonly status: string;
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
  quit(): Promise<unknown>;
  disconnect(): void;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  once(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** The options of a standalone client, or of each node of a Cluster. */
function ioredisOptions(options: ClientOptions) {
  return {
    maxRetriesPerRequest: options.noRetry ? 0 : (options.ioredis?.maxRetriesPerRequest ?? 1),
    ...(options.noRetry ? { retryStrategy: () => null, enableOfflineQueue: false } : {}),
    ...(options.reconnectDelayMs === undefined ? {} : { retryStrategy: () => options.reconnectDelayMs }),
    ...(options.ioredis?.autoPipeliningIgnoredCommands ? { autoPipeliningIgnoredCommands: options.ioredis.autoPipeliningIgnoredCommands } : {}),
  };
}

function ioredisKind(major: 5 | 6): ClientKind {
  const kind: ClientKind = {
    name: `ioredis ${major}`,
    id: `ioredis-${major}`,
    library: 'ioredis',
    variants: [
      { label: 'enableAutoPipelining: false', options: {} },
      { label: 'enableAutoPipelining: true', options: { autoPipelining: true } },
    ],
    async open(target, options = {}) {
      const redisOptions = ioredisOptions(options);
      const keyPrefix = options.ioredis?.keyPrefix;
      const common = { enableAutoPipelining: options.autoPipelining === true, ...(keyPrefix === undefined ? {} : { keyPrefix }) };
      let client: StoreClient & Ioredis;
      if (target === 'standalone') {
        const url = options.url ?? redisUrl();
        client = major === 5 ? new Redis5(url, { ...redisOptions, ...common }) : new Redis6(url, { ...redisOptions, ...common });
      } else {
        const clusterOptions = {
          ...common,
          ...(options.noRetry ? { clusterRetryStrategy: () => null, enableOfflineQueue: false } : {}),
          redisOptions,
        };
        client = major === 5 ? new Cluster5(clusterNodes(), clusterOptions) : new Cluster6(clusterNodes(), clusterOptions);
      }
      client.on('error', () => {}); // the app's own logging would go here
      if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
      return {
        kind,
        client,
        get ready() {
          return client.status === 'ready';
        },
        connect: async () => {},
        send: ([command, ...args]) => client.call(String(command), ...args),
        next: (event) => new Promise((resolve) => void client.once(event, () => resolve())),
        quit: async () => void (await client.quit()),
        drop: () => client.disconnect(),
        async close() {
          // Never disconnect one already ended: that would keep the test process alive.
          if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
          else if (client.status !== 'end') client.disconnect();
        },
      };
    },
  };
  return kind;
}

// ---- node-redis ----

/** What the tests use of a node-redis client or cluster, 4 to 6 (the methods differ by major). */
interface NodeRedis {
  readonly isOpen: boolean;
  readonly isReady?: boolean;
  connect(): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  once(event: string, listener: (...args: unknown[]) => void): unknown;
  quit?(): Promise<unknown>;
  close?(): Promise<unknown>;
  destroy?(): void;
  disconnect?(): Promise<unknown>;
}

type NodeRedisLibrary = {
  createClient(options: Record<string, unknown>): StoreClient & NodeRedis;
  createCluster(options: Record<string, unknown>): StoreClient & NodeRedis;
};

function nodeRedisOptions(options: ClientOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (options.noRetry) Object.assign(out, { socket: { reconnectStrategy: false }, disableOfflineQueue: true });
  if (options.reconnectDelayMs !== undefined) out.socket = { reconnectStrategy: () => options.reconnectDelayMs };
  return out;
}

function nodeRedisKind(major: 4 | 5 | 6, library: NodeRedisLibrary): ClientKind {
  const kind: ClientKind = {
    name: `node-redis ${major}`,
    id: `node-redis-${major}`,
    library: 'node-redis',
    variants: [{ label: 'default options', options: {} }],
    async open(target, options = {}) {
      const clientOptions = nodeRedisOptions(options);
      const cluster = target === 'cluster';
      const client = cluster
        ? library.createCluster({ rootNodes: clusterNodes().map(({ host, port }) => ({ url: `redis://${host}:${port}` })), defaults: clientOptions })
        : library.createClient({ url: options.url ?? redisUrl(), ...clientOptions });
      // node-redis throws an 'error' event that has no listener: an app must listen.
      client.on('error', () => {});
      if (options.connect !== false) await client.connect();
      const raw = client as unknown as {
        sendCommand(...a: unknown[]): Promise<unknown>;
      };
      // Abrupt: destroy() from node-redis 5, disconnect() before (deprecated since).
      const drop = () => (typeof client.destroy === 'function' ? client.destroy() : void client.disconnect?.().catch(() => {}));
      return {
        kind,
        client,
        get ready() {
          return cluster ? client.isOpen : client.isReady === true;
        },
        connect: async () => void (await client.connect()),
        send: (args, key) => {
          const strings = args.map(String);
          return cluster ? raw.sendCommand(key, false, strings) : raw.sendCommand(strings);
        },
        next: (event) => new Promise((resolve) => void client.once(event, () => resolve())),
        quit: async () => void (await (major === 4 ? client.quit!() : client.close!())),
        drop,
        async close() {
          if (!client.isOpen) return;
          const ready = cluster || client.isReady === true;
          if (ready) await (major === 4 ? client.quit!() : client.close!()).catch(drop);
          else drop();
        },
      };
    },
  };
  return kind;
}

/** Every client library version the store is tested with. */
export const CLIENT_KINDS: readonly ClientKind[] = [
  ioredisKind(5),
  ioredisKind(6),
  nodeRedisKind(4, { createClient: createClient4, createCluster: createCluster4 } as unknown as NodeRedisLibrary),
  nodeRedisKind(5, { createClient: createClient5, createCluster: createCluster5 } as unknown as NodeRedisLibrary),
  nodeRedisKind(6, { createClient: createClient6, createCluster: createCluster6 } as unknown as NodeRedisLibrary),
];

export function clientKind(name: string): ClientKind {
  const kind = CLIENT_KINDS.find((k) => k.name === name);
  if (kind === undefined) throw new Error(`no client kind ${JSON.stringify(name)}; known: ${CLIENT_KINDS.map((k) => k.name).join(', ')}`);
  return kind;
}

/** Opens clients of one kind and closes them all on `closeAll`. */
export class ClientPool {
  private readonly open: TestClient[] = [];

  constructor(readonly kind: ClientKind) {}

  async standalone(options?: ClientOptions): Promise<TestClient> {
    return this.track(this.kind.open('standalone', options));
  }

  async cluster(options?: ClientOptions): Promise<TestClient> {
    return this.track(this.kind.open('cluster', options));
  }

  async closeAll(): Promise<void> {
    const clients = this.open.splice(0);
    await Promise.all(clients.map((c) => c.close()));
  }

  private async track(opening: Promise<TestClient>): Promise<TestClient> {
    const client = await opening;
    this.open.push(client);
    return client;
  }
}
