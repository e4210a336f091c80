// @tokenbucket/hono as users get it: packed with `pnpm pack` (core too), installed from the
// tarballs into a project outside the workspace (test/packaging/pack.ts) beside hono and @hono/node-server, and a
// Hono app written from the package's README alone, run as ESM and as CommonJS, and type-checked
// against the packed declarations (module nodenext, .mts and .cts).
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expectPublishedFiles, sharedConsumer } from './pack';

const root = join(__dirname, '..', '..');

/** The consumer's install (shared with tarballs.test.ts) and this file's own directory in it. */
let consumerDir: string;
let dir: string;
let tarballs: Record<string, string>;

beforeAll(() => {
  ({ dir: consumerDir, work: dir, tarballs } = sharedConsumer());
  for (const [file, source] of Object.entries(FILES)) writeFileSync(join(dir, file), source);
}, 180_000);

afterAll(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

test('the tarball holds the builds, the types and the docs, and nothing of the sources', () => {
  expectPublishedFiles(tarballs.hono!);
  const installed = readFileSync(join(consumerDir, 'node_modules/@tokenbucket/hono/dist/cjs/index.js'), 'utf8');
  expect(installed).toBe(readFileSync(join(root, 'packages/hono/dist/cjs/index.js'), 'utf8'));
});

test.each(['app.mjs', 'app.cjs'])('%s: the README app limits a group and a route, and answers with onLimited', (file) => {
  const out = JSON.parse(execFileSync(process.execPath, [file], { cwd: dir, encoding: 'utf8' }));
  expect(out).toEqual({
    search: [200, 200, 429],
    limitedBody: { error: 'slow down', retryAfterMs: expect.any(Number) },
    // Both limiters the request passed: the group's and the route's.
    policy: '"USE /api/*";q=3;w=180, "GET /api/search";q=2;w=120',
    group: [200, 200, 200, 429],
  });
});

test('the app type-checks against the packed declarations, as ESM and as CommonJS', () => {
  const tsc = require.resolve('typescript/bin/tsc');
  expect(() => execFileSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8', stdio: 'pipe' })).not.toThrow();
});

/**
 * The app of the README's first two examples, with the MemoryStore (no store given) so that it
 * needs no Redis: a group under /api, a route of its own with `onLimited`, served by
 * @hono/node-server on a free port and asked by fetch.
 */
const body = `
const app = new Hono();
app.use('/api/*', rateLimit({ capacity: 3, refillPerSecond: 1 / 60 }));
app.get(
  '/api/search',
  rateLimit({
    capacity: 2,
    refillPerSecond: 1 / 60,
    onLimited: (c, decision) => c.json({ error: 'slow down', retryAfterMs: decision.retryAfterMs }, 429),
  }),
  (c) => c.json({ results: [] }),
);
app.get('/api/other', (c) => c.json({ ok: true }));

const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, async (info) => {
  const get = (path, key = 'k') => fetch(\`http://127.0.0.1:\${info.port}\${path}\`, { headers: { 'x-api-key': key } });
  const search = [];
  let limitedBody;
  let policy;
  for (let i = 0; i < 3; i++) {
    const r = await get('/api/search');
    search.push(r.status);
    policy ??= r.headers.get('ratelimit-policy');
    if (r.status === 429) limitedBody = await r.json();
    else await r.text();
  }
  const group = [];
  // Another caller: the group's own bucket, 3 for every route under /api.
  for (let i = 0; i < 4; i++) group.push((await get('/api/other', 'k2')).status);
  server.close();
  console.log(JSON.stringify({ search, limitedBody, policy, group }));
});
`;

const FILES: Record<string, string> = {
  'app.mjs': `import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { rateLimit } from '@tokenbucket/hono';
${body}`,
  'app.cjs': `const { serve } = require('@hono/node-server');
const { Hono } = require('hono');
const { rateLimit } = require('@tokenbucket/hono');
${body}`,
  'typed.mts': `import { serve } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { rateLimit, type RateLimitOptions } from '@tokenbucket/hono';

const ip = (c: Context) => c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
const options: RateLimitOptions = { capacity: 10, refillPerSecond: 2, ip, onLimited: (c, d) => c.json({ retryAfterMs: d.retryAfterMs }, 429) };
const app = new Hono();
app.get('/api/search', rateLimit(options), (c) => c.json({ results: [] }));
export const server = serve({ fetch: app.fetch, port: 3000 });
// @ts-expect-error: capacity is a number
rateLimit({ capacity: '10', refillPerSecond: 2 });
`,
  'typed.cts': `import hono = require('@tokenbucket/hono');
export const middleware = hono.rateLimit({ capacity: 1, refillPerSecond: 1, ip: () => undefined });
`,
  'tsconfig.json': JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', types: ['node'] },
    files: ['typed.mts', 'typed.cts'],
  }),
};
