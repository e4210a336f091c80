// Test helpers for the real Redis Cluster at REDIS_CLUSTER_NODES: the check a suite that needs
// one starts with, ioredis Cluster clients, a direct client per master (to see where keys really
// live), and cleanup of keys on every master.
import { randomBytes } from 'node:crypto';
import Redis, { Cluster, type ClusterOptions } from 'ioredis';
import { closeClient, scanAll, sleep, withClient } from './redis';

export interface NodeAddress {
  host: string;
  port: number;
}

const HELP =
  'The tests run the store suite on a real Redis Cluster of three masters: run them with `pnpm test` ' +
  '(scripts/test.sh starts one), or `source scripts/lib.sh && start_redis_cluster`, or set ' +
  'REDIS_CLUSTER_NODES=127.0.0.1:<port>,127.0.0.1:<port>,127.0.0.1:<port>.';

/** Set when requireCluster() found no healthy cluster: every later client gets the same error. */
let unhealthy: Error | undefined;

/** The cluster's seed nodes, from REDIS_CLUSTER_NODES=127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3. */
export function clusterNodes(): NodeAddress[] {
  const env = process.env.REDIS_CLUSTER_NODES;
  if (!env) throw new Error(`REDIS_CLUSTER_NODES is not set. ${HELP}`);
  if (unhealthy !== undefined) throw unhealthy;
  const addrs = env
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (addrs.length === 0) throw new Error(`REDIS_CLUSTER_NODES=${env} is not a list of host:port. ${HELP}`);
  return addrs.map((addr) => {
    const m = /^([^:\s]+):(\d+)$/.exec(addr);
    if (!m) throw new Error(`REDIS_CLUSTER_NODES=${env} is not a list of host:port. ${HELP}`);
    return { host: m[1]!, port: Number(m[2]) };
  });
}

/**
 * Call at the top of a suite that needs the Redis Cluster (or of a `describe`, for its tests
 * alone). Before the first test it checks that every node of REDIS_CLUSTER_NODES belongs to a
 * healthy cluster of at least three masters; when not, every test of the suite fails with how to
 * get one. Tests never skip.
 */
export function requireCluster(): void {
  beforeAll(async () => {
    try {
      await checkCluster();
    } catch (err) {
      // The suite's other hooks still run: they must fail at once too, not open clients that
      // retry a dead address until every hook times out.
      unhealthy ??= err as Error;
      throw err;
    }
  });
}

async function checkCluster(): Promise<void> {
  for (const { host, port } of clusterNodes()) {
    const addr = `${host}:${port}`;
    const info = await withClient(`redis://${addr}`, 'CLUSTER INFO on REDIS_CLUSTER_NODES node', (c) => c.cluster('INFO'));
    const field = (name: string) => new RegExp(`^${name}:(\\S+)`, 'm').exec(info)?.[1];
    if (field('cluster_state') !== 'ok' || field('cluster_slots_ok') !== '16384' || Number(field('cluster_size')) < 3) {
      throw new Error(
        `Redis Cluster node ${addr} is not a healthy cluster of at least three masters: cluster_state=${field('cluster_state')}, ` +
          `cluster_slots_ok=${field('cluster_slots_ok')}, cluster_size=${field('cluster_size')}. ${HELP}`,
      );
    }
  }
}

export interface Master {
  /** host:port */
  address: string;
  /** A plain (non-cluster) client connected to this master only. */
  client: Redis;
  /** The slot ranges this master serves, inclusive. */
  slots: [number, number][];
}

/** Opens Cluster clients and per-master clients; `closeAll` deletes keys under prefixes and closes them. */
export class ClusterPool {
  private readonly clusters: Cluster[] = [];
  private readonly direct: Redis[] = [];
  private mastersCache?: Promise<Master[]>;

  cluster(options: ClusterOptions = {}): Cluster {
    const cluster = new Cluster(clusterNodes(), {
      ...options,
      redisOptions: { maxRetriesPerRequest: 1, ...options.redisOptions },
    });
    this.clusters.push(cluster);
    return cluster;
  }

  /** A plain client to one node (for SCAN, SCRIPT FLUSH, CLUSTER commands on that node alone). */
  nodeClient(address: string): Redis {
    const [host, port] = address.split(':');
    const client = new Redis({ host, port: Number(port), maxRetriesPerRequest: 1 });
    this.direct.push(client);
    return client;
  }

  /** Every master of the cluster, as its own CLUSTER SLOTS reports them. */
  masters(): Promise<Master[]> {
    this.mastersCache ??= (async () => {
      const seed = clusterNodes()[0]!;
      const slots = await this.nodeClient(`${seed.host}:${seed.port}`).cluster('SLOTS');
      const byAddress = new Map<string, [number, number][]>();
      for (const [start, end, primary] of slots) {
        if (!primary) throw new Error(`CLUSTER SLOTS: slots ${start}-${end} have no master`);
        const address = `${primary[0]}:${primary[1]}`;
        byAddress.set(address, [...(byAddress.get(address) ?? []), [start, end]]);
      }
      return [...byAddress].map(([address, ranges]) => ({ address, client: this.nodeClient(address), slots: ranges }));
    })();
    return this.mastersCache;
  }

  /** Keys matching `pattern` on each master, found with that master's own SCAN. */
  async keysPerMaster(pattern: string): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const master of await this.masters()) out.set(master.address, await scanAll(master.client, pattern));
    return out;
  }

  /**
   * Runs `fn` holding a lock that every test process using this cluster shares (a key on the
   * cluster, taken with SET NX and a 30 s expiry): for tests that change what the whole cluster
   * holds, such as SCRIPT FLUSH, which would undo another file's concurrent check of it.
   */
  async exclusively<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const cluster = this.cluster();
    const key = `tokenbucket-test-lock:{${name}}`;
    const token = randomBytes(8).toString('hex');
    const deadline = Date.now() + 20_000;
    while ((await cluster.set(key, token, 'PX', 30_000, 'NX')) !== 'OK') {
      if (Date.now() > deadline) throw new Error(`the cluster lock ${key} was held by another test for 20 s`);
      await sleep(20);
    }
    try {
      return await fn();
    } finally {
      await cluster.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", 1, key, token);
    }
  }

  async closeAll(deletePrefixes: string[] = []): Promise<void> {
    // A pool that never opened a client wrote nothing (and with no cluster there, must not try).
    if (this.clusters.length === 0 && this.direct.length === 0) return;
    if (deletePrefixes.length > 0) {
      for (const master of await this.masters()) {
        for (const prefix of deletePrefixes) {
          const keys = await scanAll(master.client, `${prefix}*`);
          // One key per DEL: keys in different slots cannot share a command, even on one node.
          if (keys.length > 0) await Promise.all(keys.map((k) => master.client.unlink(k)));
        }
      }
    }
    await Promise.all([...this.clusters, ...this.direct].map(closeClient));
    this.clusters.length = 0;
    this.direct.length = 0;
    this.mastersCache = undefined;
  }
}
