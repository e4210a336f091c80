// A concurrency limit holds across instances: three processes (in-flight.child.mjs, Express on the
// built packages), each with its own RedisStore and client, serve slow requests of one caller.
// The handlers count the requests in flight themselves (a counter beside the limiter): never
// above `max`; the extra requests get 429; capacity comes back as requests finish; a request
// that outlives its lease keeps its slot (renewed); and the slots of an instance killed with
// SIGKILL come back after the lease, not before. Standalone Redis and Cluster.
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createLimiter, RedisStore } from '@tokenbucket/core';
import { ClusterPool, clusterNodes, requireCluster } from '../support/cluster';
import { RedisPool, randomPrefix, redisUrl, requireRedis, sleep } from '../support/redis';

const DIST = join(__dirname, '..', '..', 'packages', 'express', 'dist', 'esm', 'index.js');

interface Reply {
  status: number;
  retryAfter: string | undefined;
}

/** One GET; resolves when the response has ended, or (with `abort`) never answers and is dropped by the caller. */
function get(port: number, path: string, apiKey: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { 'x-api-key': apiKey }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Sends a request that is not waited for (a /hang request held until its instance dies). */
function fire(port: number, path: string, apiKey: string): void {
  const req = httpRequest({ host: '127.0.0.1', port, path, headers: { 'x-api-key': apiKey }, agent: false });
  req.on('error', () => undefined);
  req.end();
}

class Instance {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  static async start(config: object): Promise<Instance> {
    const child = fork(join(__dirname, 'in-flight.child.mjs'), [JSON.stringify(config)], {
      execArgv: [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: process.env,
    });
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (msg: { type: string; port: number }) => (msg.type === 'ready' ? resolve(msg.port) : reject(new Error(JSON.stringify(msg)))));
      child.once('exit', (code) => reject(new Error(`the instance exited (code ${code}) before it was ready`)));
    });
    return new Instance(child, port);
  }

  async stats(): Promise<{ maxSeen: number; served: number }> {
    return new Promise((resolve, reject) => {
      httpRequest({ host: '127.0.0.1', port: this.port, path: '/stats', agent: false }, (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve(JSON.parse(text)));
      })
        .on('error', reject)
        .end();
    });
  }

  kill(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGKILL');
    return exited;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.send({ type: 'quit' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

beforeAll(() => {
  if (!existsSync(DIST)) throw new Error(`${DIST} is missing: the instances run the built packages; run \`pnpm build\` first.`);
});

const MAX = 4;
const LEASE_MS = 2_000;

describe.each([
  ['standalone Redis', 'redis', requireRedis],
  ['Redis Cluster', 'cluster', requireCluster],
] as const)('concurrency slots across three processes, %s', (_label, topology, requireServer) => {
  requireServer();
  requireRedis(); // the handlers' own counter
  const prefix = randomPrefix(`in-flight-${topology}`);
  let instances: Instance[] = [];
  let pool: RedisPool | ClusterPool;
  let held: (apiKey: string) => Promise<number>;

  beforeAll(async () => {
    if (topology === 'cluster') clusterNodes();
    else redisUrl();
    const config = { topology, prefix, max: MAX, leaseMs: LEASE_MS, slowMs: 1_500 };
    instances = await Promise.all([Instance.start(config), Instance.start(config), Instance.start(config)]);
    if (topology === 'cluster') {
      const cluster = new ClusterPool();
      pool = cluster;
      await cluster.masters();
      const reader = createLimiter({ store: new RedisStore({ client: cluster.cluster(), prefix }), concurrency: { max: MAX, name: 'reports' } });
      held = async (k) => MAX - (await reader.get(k)).remaining;
    } else {
      const standalone = new RedisPool();
      pool = standalone;
      const reader = createLimiter({ store: new RedisStore({ client: standalone.client(), prefix }), concurrency: { max: MAX, name: 'reports' } });
      held = async (k) => MAX - (await reader.get(k)).remaining;
    }
  }, 30_000);

  afterAll(async () => {
    await Promise.all(instances.map((i) => i.stop()));
    const counter = new Redis(redisUrl());
    await counter.del(`${prefix}in-flight`);
    await counter.quit();
    await pool.closeAll([prefix]);
  });

  test('12 slow requests of one caller at once, 4 per process: 4 run, never more in flight, 8 get 429; then capacity is back', async () => {
    const burst = instances.flatMap((i) => Array.from({ length: 4 }, () => get(i.port, '/slow', 'caller-a')));
    const replies = await Promise.all(burst);
    expect(replies.filter((r) => r.status === 200)).toHaveLength(MAX);
    const denied = replies.filter((r) => r.status === 429);
    expect(denied).toHaveLength(12 - MAX);
    expect(denied.every((r) => r.retryAfter === '1')).toBe(true);
    const stats = await Promise.all(instances.map((i) => i.stats()));
    expect(Math.max(...stats.map((s) => s.maxSeen))).toBe(MAX);

    // Every slot came back as its request finished: the next burst runs in full.
    expect(await held('caller-a')).toBe(0);
    const again = await Promise.all(instances.slice(0, 2).flatMap((i) => [get(i.port, '/slow', 'caller-a'), get(i.port, '/slow', 'caller-a')]));
    expect(again.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const after = await Promise.all(instances.map((i) => i.stats()));
    expect(Math.max(...after.map((s) => s.maxSeen))).toBe(MAX);
  }, 30_000);

  test('a request that outlives its lease keeps its slot; an instance SIGKILLed holding slots gets them back after the lease, not before', async () => {
    const doomed = instances[2]!;
    fire(doomed.port, '/hang', 'caller-b');
    fire(doomed.port, '/hang', 'caller-b');
    const deadline = Date.now() + 5_000;
    while ((await held('caller-b')) < 2 && Date.now() < deadline) await sleep(20);
    expect(await held('caller-b')).toBe(2);
    // Longer than the lease: renewed, so still held.
    await sleep(LEASE_MS + 500);
    expect(await held('caller-b')).toBe(2);

    await doomed.kill();
    const killedAt = Date.now();
    // Within two thirds of the lease of the kill, the dead instance's slots still count: 2 of 4 left.
    const pending = [0, 1, 2].map(() => get(instances[0]!.port, '/slow', 'caller-b'));
    expect(Date.now() - killedAt).toBeLessThan((LEASE_MS * 2) / 3);
    const during = await Promise.all(pending);
    expect(during.map((r) => r.status).sort()).toEqual([200, 200, 429]);

    // After the lease, every slot is free again.
    await sleep(Math.max(0, killedAt + LEASE_MS + 300 - Date.now()));
    expect(await held('caller-b')).toBe(0);
    const back = await Promise.all([0, 1, 2, 3].map((n) => get(instances[n % 2]!.port, '/slow', 'caller-b')));
    expect(back.map((r) => r.status)).toEqual([200, 200, 200, 200]);
  }, 30_000);
});
