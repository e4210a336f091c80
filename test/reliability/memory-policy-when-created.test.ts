// The maxmemory-policy check runs whenever a RedisStore is made: before its client starts to
// connect, while it connects, and once it is ready; standalone or Cluster; with every client
// library the store supports. Each client meets an evicting server and must be warned once, naming
// the node.
import Redis, { Cluster } from 'ioredis';
import Redis6, { Cluster as Cluster6 } from 'ioredis6';
import { createClient as createClient4, createCluster as createCluster4 } from 'redis4';
import { createClient as createClient5, createCluster as createCluster5 } from 'redis5';
import { createClient as createClient6, createCluster as createCluster6 } from 'redis6';
import { RedisStore, type RedisStoreOptions } from '@tokenbucket/core';
import { ClusterProcesses } from '../support/cluster-process';
import { RedisProcess } from '../support/redis-process';
import { randomPrefix } from '../support/redis';

type StoreClient = RedisStoreOptions['client'];

/** A client of one library, made without connecting: `start` begins to connect, `ready` resolves once it is ready. */
interface Made {
  client: StoreClient;
  start(): void;
  ready(): Promise<void>;
  close(): Promise<void>;
}

type Seed = { host: string; port: number };

/** A client kind: how to make a standalone client and a Cluster client that have not connected yet. */
interface Kind {
  name: string;
  standalone(url: string): Made;
  cluster(seeds: Seed[]): Made;
}

function ioredisKind(name: string, R: typeof Redis, C: typeof Cluster): Kind {
  const made = (client: Redis | Cluster): Made => {
    const ready = new Promise<void>((resolve) => void client.once('ready', () => resolve()));
    return { client, start: () => void client.connect().catch(() => {}), ready: () => ready, close: async () => void client.disconnect() };
  };
  return {
    name,
    standalone: (url) => made(new R(url, { lazyConnect: true })),
    cluster: (seeds) => made(new C(seeds, { lazyConnect: true })),
  };
}

interface NodeRedisClient {
  connect(): Promise<unknown>;
  destroy?(): void;
  disconnect?(): Promise<unknown>;
}
function nodeRedisKind(name: string, createClient: (o: object) => unknown, createCluster: (o: object) => unknown): Kind {
  const made = (client: NodeRedisClient): Made => {
    let connected: Promise<unknown> | undefined;
    return {
      client: client as unknown as StoreClient,
      start: () => {
        connected = client.connect();
      },
      ready: async () => void (await connected),
      close: async () => (typeof client.destroy === 'function' ? client.destroy() : void (await client.disconnect?.().catch(() => {}))),
    };
  };
  return {
    name,
    standalone: (url) => made(createClient({ url }) as NodeRedisClient),
    cluster: (seeds) => made(createCluster({ rootNodes: seeds.map((s) => ({ url: `redis://${s.host}:${s.port}` })) }) as NodeRedisClient),
  };
}

const KINDS: Kind[] = [
  ioredisKind('ioredis 5', Redis, Cluster),
  ioredisKind('ioredis 6', Redis6 as unknown as typeof Redis, Cluster6 as unknown as typeof Cluster),
  nodeRedisKind('node-redis 4', createClient4 as never, createCluster4 as never),
  nodeRedisKind('node-redis 5', createClient5 as never, createCluster5 as never),
  nodeRedisKind('node-redis 6', createClient6 as never, createCluster6 as never),
];

const WHEN = ['before it connects', 'while it connects', 'once it is ready'] as const;
type When = (typeof WHEN)[number];

describe('maxmemory-policy check, store made before or after its client connects', () => {
  let server: RedisProcess;
  let cluster: ClusterProcesses;
  /** The Cluster node that can evict. */
  let evicting: RedisProcess;
  const opened: Made[] = [];
  const warnings: string[] = [];
  let emitWarning: jest.SpyInstance;

  beforeAll(async () => {
    emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation((warning: string | Error, type?: unknown) => {
      const name = typeof type === 'string' ? type : (type as { type?: string } | undefined)?.type;
      if (name === 'TokenBucketWarning') warnings.push(String(warning));
    });
    server = await RedisProcess.start();
    const admin = new Redis(server.url);
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    admin.disconnect();
    cluster = await ClusterProcesses.start(3);
    evicting = cluster.nodes[2]!;
    const direct = new Redis(evicting.port, '127.0.0.1');
    await direct.config('SET', 'maxmemory-policy', 'volatile-lfu');
    direct.disconnect();
  }, 60_000);

  afterAll(async () => {
    for (const m of opened) await m.close().catch(() => {});
    await cluster?.stop();
    await server?.stop();
    emitWarning?.mockRestore();
  });

  /** The warnings that name `what`, once the check has had up to 5 s to run. */
  async function warnedAbout(what: string): Promise<string[]> {
    const matching = () => warnings.filter((w) => w.includes(what));
    const until = performance.now() + 5_000;
    while (matching().length === 0 && performance.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
    // Long enough for a second warning about the same client to show up, were there one.
    await new Promise((resolve) => setTimeout(resolve, 100));
    return matching();
  }

  /** Makes the client, starts it and waits until it is ready, with the store made at `when`. */
  async function storeOn(made: Made, when: When): Promise<void> {
    opened.push(made);
    const store = () => new RedisStore({ client: made.client, prefix: randomPrefix('policy-when') });
    if (when === 'before it connects') store();
    made.start();
    if (when === 'while it connects') store();
    await made.ready();
    if (when === 'once it is ready') store();
  }

  for (const kind of KINDS) {
    for (const when of WHEN) {
      test(`${kind.name}, standalone, store made ${when}: warned once`, async () => {
        warnings.length = 0;
        await storeOn(kind.standalone(server.url), when);
        expect(await warnedAbout('has maxmemory-policy allkeys-lru')).toHaveLength(1);
      });

      test(`${kind.name}, Cluster, store made ${when}: warned once, naming the evicting master`, async () => {
        warnings.length = 0;
        await storeOn(kind.cluster(cluster.seeds), when);
        const seen = await warnedAbout(`${evicting.address} has maxmemory-policy volatile-lfu`);
        expect(seen).toHaveLength(1);
        for (const other of cluster.nodes.filter((n) => n !== evicting)) expect(seen[0]!).not.toContain(other.address);
      });
    }
  }
});
