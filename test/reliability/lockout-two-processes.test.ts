// A lock-out is shared by every instance: two processes, each with its own RedisStore and client
// (lockout-two-processes.child.mjs, on the built package). A caller locked through one is denied
// by the other at its next take, which asks Redis, and then from that process's memory, with no
// call to Redis, until the lock ends. Standalone and Cluster, through ioredis and node-redis.
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ClusterPool, clusterNodes, requireCluster } from '../support/cluster';
import { RedisPool, randomPrefix, redisUrl, requireRedis, sleep } from '../support/redis';

const CORE_DIST = join(__dirname, '..', '..', 'packages', 'core', 'dist', 'esm', 'index.js');

interface Answer {
  allowed: boolean;
  lockedMs: number | null;
  source: string;
}
interface Done {
  results: Answer[];
  calls: number;
}

/** One app instance: a child process with its own store, driven over IPC. */
class Instance {
  private constructor(private readonly child: ChildProcess) {}

  static async start(config: object): Promise<Instance> {
    const child = fork(join(__dirname, 'lockout-two-processes.child.mjs'), [JSON.stringify(config)], {
      execArgv: [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: process.env,
    });
    await new Promise<void>((resolve, reject) => {
      child.once('message', (msg: { type: string }) => (msg.type === 'ready' ? resolve() : reject(new Error(JSON.stringify(msg)))));
      child.once('exit', (code) => reject(new Error(`the instance exited (code ${code}) before it was ready`)));
    });
    return new Instance(child);
  }

  send(command: object): Promise<Done> {
    return new Promise((resolve, reject) => {
      this.child.once('message', (msg: { type: string; message?: string } & Done) => (msg.type === 'done' ? resolve(msg) : reject(new Error(msg.message))));
      this.child.send(command);
    });
  }

  take(id: string, n: number, cost = 1): Promise<Done> {
    return this.send({ type: 'take', id, n, cost });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.send({ type: 'quit' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

beforeAll(() => {
  if (!existsSync(CORE_DIST)) throw new Error(`${CORE_DIST} is missing: the instances run the built core; run \`pnpm build\` first.`);
});

const targets = [
  ['standalone Redis', 'redis', requireRedis],
  ['Redis Cluster', 'cluster', requireCluster],
] as const;
const libraries = [
  ['ioredis 5', 'ioredis'],
  ['node-redis 5', 'node-redis'],
] as const;

describe.each(
  targets.flatMap(([server, topology, requireServer]) =>
    libraries.map(([client, library]) => [`${server} through ${client}`, topology, library, requireServer] as const),
  ),
)('a lock-out shared by two processes, %s', (_label, topology, library, requireServer) => {
  requireServer();
  let a: Instance;
  let b: Instance;
  const rule = { name: 'shared-lock', after: 3, windowMs: 60_000, durationMs: 1_500 };
  const policy = { name: 'shared', capacity: 1, refillPerSecond: 1 / 3600 };
  const prefix = randomPrefix(`lockout-${topology}-${library}`);

  beforeAll(async () => {
    if (topology === 'cluster') clusterNodes();
    else redisUrl(); // fails here, clearly, without a server
    const config = { topology, library, prefix, rule, policy };
    [a, b] = await Promise.all([Instance.start(config), Instance.start(config)]);
  }, 20_000);
  afterAll(async () => {
    await a?.send({ type: 'unlock', id: 'abuser' }).catch(() => undefined);
    await Promise.all([a?.stop(), b?.stop()]);
    if (topology === 'cluster') {
      const pool = new ClusterPool();
      await pool.masters();
      await pool.closeAll([prefix]);
    } else {
      const pool = new RedisPool();
      pool.client();
      await pool.closeAll([prefix]);
    }
  });

  test('locked through one, denied by the other at its next take, then from its memory until the lock ends', async () => {
    // B has seen the caller before: allowed, and nothing remembered.
    expect((await b.take('abuser', 1, 0)).results).toEqual([{ allowed: true, lockedMs: null, source: 'redis' }]);

    // A: one take allowed, three denials; the third locks the caller.
    const locking = await a.take('abuser', 4);
    expect(locking.calls).toBe(4);
    expect(locking.results.map((r) => r.allowed)).toEqual([true, false, false, false]);
    expect(locking.results.map((r) => r.lockedMs === null)).toEqual([true, true, true, false]);
    expect(locking.results[3]!.lockedMs).toBeGreaterThan(1_000);

    // B: its next take asks Redis and is locked; the next 50 are answered from memory.
    const first = await b.take('abuser', 1, 0);
    expect(first.calls).toBe(1);
    expect(first.results[0]).toMatchObject({ allowed: false, source: 'redis' });
    expect(first.results[0]!.lockedMs).toBeGreaterThan(0);
    expect(first.results[0]!.lockedMs).toBeLessThanOrEqual(locking.results[3]!.lockedMs!);
    const remembered = await b.take('abuser', 50, 0);
    expect(remembered.calls).toBe(0);
    expect(remembered.results.every((r) => !r.allowed && r.source === 'lockout' && r.lockedMs! > 0)).toBe(true);
    // Other callers are not affected, in either process.
    expect((await b.take('bystander', 1)).results[0]).toMatchObject({ allowed: true });
    expect((await a.take('bystander-2', 1)).results[0]).toMatchObject({ allowed: true });

    // When the lock ends here, B asks Redis again. B dates the end from before it asked, so
    // Redis may still hold the lock for as long as that call took: it then answers the short
    // time left, and after that B is let through.
    await sleep(remembered.results[49]!.lockedMs! + 20);
    let after = await b.take('abuser', 1, 0);
    expect(after.calls).toBe(1);
    if (!after.results[0]!.allowed) {
      expect(after.results[0]!.source).toBe('redis');
      expect(after.results[0]!.lockedMs).toBeLessThan(300);
      await sleep(after.results[0]!.lockedMs! + 5);
      after = await b.take('abuser', 1, 0);
    }
    expect(after.results[0]).toEqual({ allowed: true, lockedMs: null, source: 'redis' });
  }, 20_000);

  test('unlock through one process: the other, which never saw the lock, is not locked', async () => {
    await a.take('abuser-2', 4);
    expect((await a.take('abuser-2', 1, 0)).results[0]!.source).toBe('lockout');
    await a.send({ type: 'unlock', id: 'abuser-2' });
    expect((await a.take('abuser-2', 1, 0)).results[0]).toEqual({ allowed: true, lockedMs: null, source: 'redis' });
    expect((await b.take('abuser-2', 1, 0)).results[0]).toEqual({ allowed: true, lockedMs: null, source: 'redis' });
  }, 20_000);
});
