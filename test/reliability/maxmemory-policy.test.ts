// A Redis that may evict keys (any maxmemory-policy but noeviction) hands an evicted bucket back
// full: the store checks the policy on connect and warns once per client, naming it; it says what
// it could not check when an ACL forbids CONFIG. (What eviction does to a hot key under a flood of
// new keys is measured by test/reliability/eviction.mjs.)
import Redis, { Cluster, type RedisOptions } from 'ioredis';
import { createLimiter, RedisStore, type RedisStoreOptions } from '@tokenbucket/core';
import { ClusterProcesses } from '../support/cluster-process';
import { RedisProcess } from '../support/redis-process';
import { randomPrefix } from '../support/redis';
import { report } from '../support/report';

/** CONFIG calls a server has seen, allowed or refused (INFO commandstats). */
async function configCalls(admin: Redis): Promise<number> {
  const info = await admin.info('commandstats');
  const line = /^cmdstat_config\|get:(.*)$/m.exec(info)?.[1] ?? '';
  let total = 0;
  for (const field of ['calls', 'rejected_calls', 'failed_calls']) total += Number(new RegExp(`\\b${field}=(\\d+)`).exec(line)?.[1] ?? 0);
  return total;
}

describe('maxmemory-policy check', () => {
  let server: RedisProcess;
  let admin: Redis;
  const clients: (Redis | Cluster)[] = [];
  /** TokenBucketWarnings emitted (process.emitWarning, watched: Jest's sandbox does not pass 'warning' events on). */
  const warnings: string[] = [];
  let emitWarning: jest.SpyInstance;

  beforeAll(async () => {
    emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation((warning: string | Error, type?: unknown) => {
      const name = typeof type === 'string' ? type : (type as { type?: string } | undefined)?.type;
      if (name === 'TokenBucketWarning') warnings.push(String(warning));
    });
    server = await RedisProcess.start();
    admin = new Redis(server.url);
    await admin.acl('SETUSER', 'noconfig', 'on', '>secret', '~*', '+@all', '-config');
  });

  afterAll(async () => {
    for (const c of clients) c.disconnect();
    admin?.disconnect();
    await server?.stop();
    emitWarning?.mockRestore();
  });

  /**
   * Connects a client with `options`, puts two stores on it (`store` options for both), waits
   * (up to 5 s) until the server has seen the check's CONFIG GET, reconnects once (ready again:
   * the check runs again, but a client already warned is not warned again), and returns the
   * warnings and the number of CONFIG GET the server saw.
   */
  async function connect(options: RedisOptions, store: Partial<RedisStoreOptions> = {}): Promise<{ seen: string[]; calls: number }> {
    warnings.length = 0;
    const before = await configCalls(admin);
    const client = new Redis(server.url, options);
    clients.push(client);
    const prefix = randomPrefix('maxmemory');
    new RedisStore({ client, prefix, ...store });
    const limiter = createLimiter({ store: new RedisStore({ client, prefix, ...store }), capacity: 5, refillPerSecond: 1 });
    expect((await limiter.take('caller')).allowed).toBe(true);
    const until = performance.now() + (store.checkMemoryPolicy === false ? 0 : 5000);
    while ((await configCalls(admin)) === before && performance.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
    // Replies on one connection come in order: the check's reply has been handled once PING's has.
    await client.ping();
    // Ready again: the check runs again (its CONFIG GET goes before this PING) unless the client was warned.
    client.disconnect(true);
    await new Promise((resolve) => client.once('ready', resolve));
    await client.ping();
    await new Promise((resolve) => setImmediate(resolve));
    return { seen: [...warnings], calls: (await configCalls(admin)) - before };
  }

  test.each(['allkeys-lru', 'volatile-lru'])('maxmemory-policy %s: exactly one TokenBucketWarning, naming it', async (policy) => {
    await admin.config('SET', 'maxmemory-policy', policy);
    const { seen, calls } = await connect({});
    report(`maxmemory-policy ${policy}: ${seen.length} warning(s): ${seen.join(' | ')}`);
    expect(seen).toHaveLength(1);
    // Two stores on one client: one check on connect; none after the reconnect, once warned.
    expect(calls).toBe(1);
    expect(seen[0]!).toContain(`${server.address} has maxmemory-policy ${policy}`);
    expect(seen[0]!).toContain('noeviction');
  });

  test('maxmemory-policy noeviction: no warning', async () => {
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    const { seen, calls } = await connect({});
    expect(seen).toEqual([]);
    // Checked on connect and again on the reconnect, one CONFIG GET each for two stores on one client.
    expect(calls).toBe(2);
  });

  test('an ACL user without CONFIG: one warning that says what could not be checked', async () => {
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    const { seen, calls } = await connect({ username: 'noconfig', password: 'secret' });
    report(`ACL without CONFIG: ${seen.length} warning(s): ${seen.join(' | ')}`);
    expect(seen).toHaveLength(1);
    expect(calls).toBe(1);
    expect(seen[0]!).toContain('could not read maxmemory-policy');
    expect(seen[0]!).toContain('NOPERM');
    expect(seen[0]!).toContain('checkMemoryPolicy: false');
  });

  test('checkMemoryPolicy: false: no CONFIG call, no warning', async () => {
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    expect(await connect({}, { checkMemoryPolicy: false })).toEqual({ seen: [], calls: 0 });
  });

  test('a Cluster: every master is checked; the warning names the one that can evict', async () => {
    const cluster = await ClusterProcesses.start(3);
    try {
      const evicting = cluster.nodes[1]!;
      const direct = new Redis(evicting.port, '127.0.0.1');
      await direct.config('SET', 'maxmemory-policy', 'volatile-ttl');
      direct.disconnect();
      warnings.length = 0;
      const client = new Cluster(cluster.seeds);
      clients.push(client);
      const limiter = createLimiter({ store: new RedisStore({ client, prefix: randomPrefix('maxmemory') }), capacity: 5, refillPerSecond: 1 });
      expect((await limiter.take('caller')).allowed).toBe(true);
      const until = performance.now() + 10_000;
      while (warnings.length === 0 && performance.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
      // Every master answered the check (CONFIG GET on each).
      for (const node of cluster.nodes) {
        const c = new Redis(node.port, '127.0.0.1');
        expect(await configCalls(c)).toBeGreaterThanOrEqual(1);
        c.disconnect();
      }
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!).toContain(`${evicting.address} has maxmemory-policy volatile-ttl`);
      for (const other of cluster.nodes.filter((n) => n !== evicting)) expect(warnings[0]!).not.toContain(other.address);
      client.disconnect();
    } finally {
      await cluster.stop();
    }
  }, 60_000);
});
