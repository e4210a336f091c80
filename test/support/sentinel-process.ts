// A Redis Sentinel deployment of a test's own: one master, one replica, three sentinels, all real
// processes on free loopback ports, to fail over (SENTINEL FAILOVER) or to kill the master.
import Redis from 'ioredis';
import { RedisProcess } from './redis-process';

export const SENTINEL_MASTER_NAME = 'tbmaster';

/** Sentinel settings that keep a test short: the master is down after 1 s without an answer. */
const DOWN_AFTER_MS = 1000;

export class SentinelGroup {
  private constructor(
    /** The two data servers; which one is master changes with each failover. */
    readonly servers: RedisProcess[],
    readonly sentinels: RedisProcess[],
  ) {}

  /**
   * Starts the master, its replica (in sync) and three sentinels (quorum 2) that know both and
   * each other. Fails loudly when redis-sentinel is not installed.
   */
  static async start(): Promise<SentinelGroup> {
    const servers: RedisProcess[] = [];
    const sentinels: RedisProcess[] = [];
    const group = new SentinelGroup(servers, sentinels);
    try {
      const master = await RedisProcess.start();
      servers.push(master);
      servers.push(await RedisProcess.start({ args: ['--replicaof', '127.0.0.1', String(master.port)] }));
      const config = [
        `sentinel monitor ${SENTINEL_MASTER_NAME} 127.0.0.1 ${master.port} 2`,
        `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} ${DOWN_AFTER_MS}`,
        `sentinel failover-timeout ${SENTINEL_MASTER_NAME} 10000`,
        `sentinel parallel-syncs ${SENTINEL_MASTER_NAME} 1`,
        '',
      ].join('\n');
      for (let i = 0; i < 3; i++) sentinels.push(await RedisProcess.start({ sentinelConfig: config }));
      await group.waitUntilReady();
    } catch (err) {
      await group.stop();
      throw err;
    }
    return group;
  }

  /** For ioredis's `sentinels` option. */
  get sentinelAddresses(): { host: string; port: number }[] {
    return this.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port }));
  }

  /** The master's address as a running sentinel reports it. */
  async masterAddress(): Promise<string> {
    return this.withSentinel(async (s) => {
      const [host, port] = (await s.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_MASTER_NAME)) as [string, string];
      return `${host}:${port}`;
    });
  }

  server(address: string): RedisProcess {
    const server = this.servers.find((s) => s.address === address);
    if (server === undefined) throw new Error(`no data server at ${address}`);
    return server;
  }

  /**
   * Waits until every sentinel agrees on a master that says it is one, sees a replica of it that
   * is up and in sync, and knows the two other sentinels: ready for a failover.
   */
  async waitUntilReady(timeoutMs = 30_000): Promise<void> {
    const until = performance.now() + timeoutMs;
    let last = '';
    for (;;) {
      try {
        if (await this.ready()) return;
      } catch (err) {
        last = String(err);
      }
      if (performance.now() > until) throw new Error(`the Sentinel group did not settle: ${last}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  private async ready(): Promise<boolean> {
    const masters = new Set<string>();
    for (const sentinel of this.sentinels.filter((s) => s.running)) {
      const c = new Redis(sentinel.port, '127.0.0.1', { maxRetriesPerRequest: 0, retryStrategy: () => null });
      try {
        const [host, port] = (await c.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_MASTER_NAME)) as [string, string];
        masters.add(`${host}:${port}`);
        const replicas = fields((await c.call('SENTINEL', 'REPLICAS', SENTINEL_MASTER_NAME)) as string[][]);
        const others = (await c.call('SENTINEL', 'SENTINELS', SENTINEL_MASTER_NAME)) as unknown[];
        const upReplica = replicas.some((r) => r.flags === 'slave' && r['master-link-status'] === 'ok');
        if (!upReplica || others.length < this.sentinels.length - 1) return false;
      } finally {
        c.disconnect();
      }
    }
    if (masters.size !== 1) return false;
    const master = this.server([...masters][0]!);
    const c = new Redis(master.port, '127.0.0.1', { maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      const info = await c.info('replication');
      return /^role:master/m.test(info) && /^slave0:.*state=online/m.test(info);
    } finally {
      c.disconnect();
    }
  }

  private async withSentinel<T>(fn: (client: Redis) => Promise<T>): Promise<T> {
    const sentinel = this.sentinels.find((s) => s.running);
    if (sentinel === undefined) throw new Error('no sentinel is running');
    const c = new Redis(sentinel.port, '127.0.0.1', { maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      return await fn(c);
    } finally {
      c.disconnect();
    }
  }

  /** Asks a sentinel to fail over now (`SENTINEL FAILOVER`). */
  async failover(): Promise<void> {
    await this.withSentinel((s) => s.call('SENTINEL', 'FAILOVER', SENTINEL_MASTER_NAME));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.sentinels, ...this.servers].map((p) => p.stop()));
  }
}

/** SENTINEL REPLICAS answers flat [name, value, ...] lists. */
function fields(entries: string[][]): Record<string, string>[] {
  return entries.map((flat) => {
    const out: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
    return out;
  });
}
