// The smoke runs of @tokenbucket/hono on Bun and Deno, each installed from npm (root
// devDependencies `bun` and `deno`): test/runtimes/hono-app.mjs, importing the BUILT packages,
// serves on the runtime's own server with a RedisStore on ioredis and on node-redis, and real
// requests from here reach the limit: 429 with the headers and the problem body, and a keyless
// caller limited by the IP the runtime reports, a failed response refunded. Prints each runtime's version.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { createLimiter, RedisStore } from '@tokenbucket/core';
import { randomPrefix, RedisPool, redisUrl, requireRedis } from '../support/redis';
import { eventually } from '../http/client';
import { report } from '../support/report';

requireRedis();

const root = join(__dirname, '..', '..');
const app = join(__dirname, 'hono-app.mjs');
const pool = new RedisPool();
const prefix = randomPrefix('hono-runtimes');

beforeAll(() => {
  for (const pkg of ['core', 'hono']) {
    if (!existsSync(join(root, 'packages', pkg, 'dist/esm/index.js'))) {
      throw new Error(`packages/${pkg}/dist is missing: build first (\`pnpm build\`; \`npm test\` does it).`);
    }
  }
});
afterAll(() => pool.closeAll([prefix]));

/** A package's directory in the root install. */
const installed = (pkg: string) => dirname(require.resolve(`${pkg}/package.json`, { paths: [root] }));
/** The runtimes' own binaries (not the node_modules/.bin wrappers: a signal must reach the runtime). */
const RUNTIMES: Record<string, string[]> = {
  bun: [join(installed('bun'), 'bin', 'bun.exe'), app],
  deno: [join(installed('deno'), 'deno'), 'run', '--allow-net', '--allow-env', app],
};

interface Started {
  child: ChildProcess;
  runtime: string;
  base: string;
}

/** Spawns the app on a runtime and waits for its line saying where it listens. */
function start(runtime: string, client: string, keyPrefix: string): Promise<Started> {
  const [command, ...args] = RUNTIMES[runtime]!;
  const child = spawn(command!, args, { cwd: root, env: { ...process.env, REDIS_URL: redisUrl(), CLIENT: client, PREFIX: keyPrefix, NO_COLOR: '1' } });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${runtime} (${client}) did not listen within 60 s: ${stderr}`));
    }, 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${runtime} (${client}) exited with ${code}: ${stderr}`));
    });
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      const ready = JSON.parse(line) as { runtime: string; port: number };
      resolve({ child, runtime: ready.runtime, base: `http://127.0.0.1:${ready.port}` });
    });
  });
}

const stop = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });

describe.each(['bun', 'deno'])('@tokenbucket/hono on %s', (runtime) => {
  test.each(['ioredis', 'node-redis'])(
    'RedisStore on %s: the limit answers 429 with the headers; a keyless caller is limited by its IP',
    async (client) => {
      const keyPrefix = `${prefix}${runtime}:${client}:`;
      const { child, runtime: version, base } = await start(runtime, client, keyPrefix);
      try {
        report(`@tokenbucket/hono smoke run: ${version}, RedisStore on ${client}`);
        const get = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers });
        const first = await get('/api/items/1', { 'x-api-key': 'k' });
        expect([first.status, await first.json()]).toEqual([200, { id: '1' }]);
        expect(first.headers.get('ratelimit-policy')).toContain('"GET /api/items/:id";q=2;w=7200');
        expect((await get('/api/items/2', { authorization: 'Bearer k' })).status).toBe(200);
        const denied = await get('/api/items/3', { 'x-api-key': 'k' });
        expect([denied.status, denied.headers.get('retry-after'), denied.headers.get('content-type')]).toEqual([
          429,
          '3600',
          'application/problem+json; charset=utf-8',
        ]);
        expect(denied.headers.get('ratelimit')).toContain('"GET /api/items/:id";r=0;t=3600'); // t agrees with Retry-After on a 429
        expect(await denied.json()).toMatchObject({ status: 429, title: 'Too Many Requests' });
        expect((await get('/api/items/1', { 'x-api-key': 'other' })).status).toBe(200);
        // No key: the IP the runtime reports for this connection (127.0.0.1) names the bucket.
        expect((await get('/open')).status).toBe(200);
        expect((await get('/open')).status).toBe(429);
        const admin = createLimiter({
          store: new RedisStore({ client: pool.client(), prefix: keyPrefix }),
          name: 'GET /open',
          capacity: 1,
          refillPerSecond: 1 / 3600,
        });
        expect([(await admin.get({ ip: '127.0.0.1' })).remaining, (await admin.get({ ip: '127.0.0.2' })).remaining]).toEqual([0, 1]);
        // A 500 under skipFailedRequests gives its token back, every time.
        const failing = createLimiter({
          store: new RedisStore({ client: pool.client(), prefix: keyPrefix }),
          name: 'GET /fails',
          capacity: 1,
          refillPerSecond: 1 / 3600,
        });
        for (let i = 0; i < 3; i++) {
          expect((await get('/fails', { 'x-api-key': 'k' })).status).toBe(500);
          expect(await eventually(async () => (await failing.get('k')).remaining, 1)).toBe(1);
        }
      } finally {
        await stop(child);
      }
    },
    60_000,
  );
});
