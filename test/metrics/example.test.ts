// examples/metrics runs as shipped (built packages, Redis at REDIS_URL) and its /metrics counts
// the requests it limited.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { hashCallerKey } from '@tokenbucket/core/store';
import { RedisPool, requireRedis } from '../support/redis';
import { parseExposition, total } from './exposition';

requireRedis();

const root = join(__dirname, '..', '..');
const pool = new RedisPool();
const apiKey = `example-${randomBytes(6).toString('hex')}`;
let child: ChildProcess | undefined;

afterAll(async () => {
  child?.kill('SIGTERM');
  const keys = await pool.keys(`tb-example:*{${hashCallerKey(apiKey)}}`);
  if (keys.length > 0) await pool.client().del(...keys);
  await pool.closeAll();
});

test('GET /metrics after six searches: 5 allowed, 1 denied, the store up', async () => {
  for (const pkg of ['core', 'express', 'prometheus']) {
    if (!existsSync(join(root, 'packages', pkg, 'dist/esm/index.js')))
      throw new Error(`packages/${pkg} is not built: run \`pnpm build\` first (\`pnpm test\` does).`);
  }
  const started = spawn(process.execPath, [join(root, 'examples/metrics/server.mjs')], {
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child = started;
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    started.stdout!.on('data', (chunk) => {
      out += chunk;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    started.once('exit', (code) => reject(new Error(`examples/metrics exited (${code}):\n${out}`)));
  });

  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) {
    const res = await fetch(`${url}/search`, { headers: { 'x-api-key': apiKey } });
    await res.arrayBuffer();
    statuses.push(res.status);
  }
  expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);

  const res = await fetch(`${url}/metrics`);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  const text = await res.text();
  const samples = parseExposition(text);
  expect(total(samples, 'tokenbucket_decisions_total', { route: 'GET /search', outcome: 'allowed' })).toBe(5);
  expect(total(samples, 'tokenbucket_decisions_total', { route: 'GET /search', outcome: 'denied' })).toBe(1);
  expect(total(samples, 'tokenbucket_store_up', { store: 'redis', node: 'default' })).toBe(1);
  expect(text).not.toContain(apiKey);
});
