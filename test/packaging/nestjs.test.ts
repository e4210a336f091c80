// @tokenbucket/nestjs as users get it: packed with `pnpm pack` (with core), installed from the
// tarballs into a project outside the workspace (test/packaging/pack.ts), once per NestJS major of the peer range
// (12 is ESM-only: this is where it is tested, the jest projects load CommonJS), its types
// checked from ESM and CommonJS, and two apps run: the README's Usage example as it stands (ESM,
// compiled by tsc, on the Redis at REDIS_URL), and a CommonJS app.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RedisPool, redisUrl, requireRedis } from '../support/redis';
import { consumer, expectPublishedFiles, packTarballs } from './pack';

requireRedis();

const root = join(__dirname, '..', '..');
/** The version the workspace pins, through an npm alias or not: `npm:@nestjs/core@10.4.9` -> 10.4.9. */
const pinned = (name: string): string => JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).devDependencies[name].replace(/^npm:.*@/, '');
/** The @nestjs packages of a major, as the workspace installs them (11 under their names, others aliased). */
const nest = (major: number): Record<string, string> =>
  Object.fromEntries(['common', 'core', 'platform-express'].map((m) => [`@nestjs/${m}`, pinned(major === 11 ? `@nestjs/${m}` : `nestjs-${m}${major}`)]));

/** The first TypeScript block under `## Usage` of the package's README: a whole app. */
function readmeApp(): string {
  const readme = readFileSync(join(root, 'packages/nestjs/README.md'), 'utf8');
  const usage = readme.slice(readme.indexOf('\n## Usage\n'));
  const m = /```ts\n([\s\S]*?)\n```/.exec(usage);
  if (m === null) throw new Error('packages/nestjs/README.md has no ts block under ## Usage');
  return m[1]!;
}

let tarballs: Record<string, string>;
const pool = new RedisPool();
const children: ChildProcess[] = [];
/** Each major's own directory inside its consumer project, removed at the end. */
const apps: string[] = [];

beforeAll(() => {
  tarballs = packTarballs();
}, 120_000);

afterAll(async () => {
  for (const child of children) child.kill();
  for (const app of apps) rmSync(app, { recursive: true, force: true });
  // The README app's buckets (default prefix), named after its routes.
  const keys = (await pool.keys('*GET /cats*')).concat(await pool.keys('*GET /health*'));
  if (keys.length > 0) await pool.client().del(...keys);
  await pool.closeAll([]);
});

test('the tarball holds the builds, the types and the docs, and nothing of the sources', () => {
  expectPublishedFiles(tarballs.nestjs!);
});

describe.each([10, 11, 12])('NestJS %i', (major) => {
  /** The consumer project (its install, made once per set of dependencies) and this run's app in it. */
  let installed: string;
  let app: string;
  beforeAll(() => {
    ({ dir: installed, work: app } = consumer({
      name: `nestjs${major}-tarball-consumer`,
      private: true,
      type: 'module',
      dependencies: {
        '@tokenbucket/core': `file:${tarballs.core}`,
        '@tokenbucket/nestjs': `file:${tarballs.nestjs}`,
        ...nest(major),
        ...Object.fromEntries(['ioredis', 'reflect-metadata', 'rxjs', '@types/node'].map((m) => [m, pinned(m)])),
      },
      // The packed packages name core by version: take it from its tarball, never from a registry.
      pnpm: { overrides: { '@tokenbucket/core': `file:${tarballs.core}` } },
    }));
    apps.push(app);
    mkdirSync(join(app, 'src'));
    writeFileSync(join(app, 'src/app.mts'), readmeApp());
    writeFileSync(join(app, 'src/typed.cts'), TYPED_CJS);
    writeFileSync(join(app, 'cjs.cjs'), CJS_APP);
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));
  }, 180_000);

  test('it is the version installed', () => {
    expect(JSON.parse(readFileSync(join(installed, 'node_modules/@nestjs/core/package.json'), 'utf8')).version).toBe(nest(major)['@nestjs/core']);
  });

  test("the README's app and a CommonJS file type-check against the installed declarations (strict, nodenext)", () => {
    const tsc = require.resolve('typescript/bin/tsc');
    let output = '';
    try {
      execFileSync(process.execPath, [tsc, '-p', '.', '--pretty', 'false'], { cwd: app, encoding: 'utf8', stdio: 'pipe' });
    } catch (err) {
      output = String((err as { stdout?: string }).stdout ?? err);
    }
    expect(output).toBe('');
    expect(existsSync(join(app, 'out/app.mjs'))).toBe(true);
  }, 120_000);

  test("the README's app runs as written (ESM, on Redis): the limits, names and answers it describes", async () => {
    const child = spawn(process.execPath, ['out/app.mjs'], { cwd: app, env: { ...process.env, PORT: '0', HOST: '127.0.0.1', REDIS_URL: redisUrl() } });
    children.push(child);
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m !== null) resolve(m[1]!);
      });
      child.stderr!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
      });
      child.once('exit', (code) => reject(new Error(`the README app exited (${code}): ${out}`)));
    });
    const key = { 'x-api-key': randomBytes(8).toString('hex') };
    const get = (path: string) => fetch(`${url}${path}`, { headers: key });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await get('/cats')).status);
    const denied = await get('/cats');
    expect([...statuses, denied.status]).toEqual([200, 200, 200, 429]);
    expect([denied.headers.get('content-type'), denied.headers.get('retry-after')]).toEqual(['application/problem+json; charset=utf-8', '60']);
    expect(await denied.json()).toMatchObject({ status: 429, policy: 'GET /cats', limit: 3, retryAfter: 60 });
    expect((await get('/cats/1')).headers.get('ratelimit-policy')).toBe('"GET /cats/:id";q=10;w=5');
    const health = await get('/health');
    expect([health.status, health.headers.get('ratelimit')]).toEqual([200, null]);
    child.kill();
  }, 30_000);

  test('a CommonJS app requires the package and limits', () => {
    expect(JSON.parse(execFileSync(process.execPath, ['cjs.cjs'], { cwd: app, encoding: 'utf8' }))).toEqual({
      statuses: [200, 429],
      contentType: 'application/problem+json; charset=utf-8',
      exception: true,
    });
  }, 30_000);
});

const TSCONFIG = {
  compilerOptions: {
    strict: true,
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    target: 'ES2022',
    lib: ['ES2022'],
    types: ['node'],
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    skipLibCheck: false,
    outDir: 'out',
  },
  include: ['src'],
};

/** CommonJS resolution of the declarations (dist/cjs). */
const TYPED_CJS = `import { RateLimit, RateLimitException, RateLimitGuard, RateLimitModule, type RateLimitOptions } from '@tokenbucket/nestjs';
const options: RateLimitOptions = { capacity: 2, refillPerSecond: 1, key: (req) => req.headers['x-tenant'] };
export const used: unknown[] = [RateLimit(options), RateLimitModule.forRoot(options).module, RateLimitGuard, RateLimitException];
`;

/** A Nest app in CommonJS, decorators applied as functions: a route of capacity 1, two requests. */
const CJS_APP = `require('reflect-metadata');
const { Controller, Get, Module } = require('@nestjs/common');
const { APP_GUARD, NestFactory } = require('@nestjs/core');
const { RateLimit, RateLimitException, RateLimitGuard, RateLimitModule } = require('@tokenbucket/nestjs');

class ItemsController {
  list() {
    return [];
  }
}
Controller('items')(ItemsController);
const list = Object.getOwnPropertyDescriptor(ItemsController.prototype, 'list');
Get()(ItemsController.prototype, 'list', list);
RateLimit({ capacity: 1, refillPerSecond: 1 / 3600 })(ItemsController.prototype, 'list', list);
class AppModule {}
Module({ imports: [RateLimitModule.forRoot()], controllers: [ItemsController], providers: [{ provide: APP_GUARD, useClass: RateLimitGuard }] })(AppModule);

(async () => {
  const app = await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const url = await app.getUrl();
  const first = await fetch(url + '/items');
  const second = await fetch(url + '/items');
  await app.close();
  console.log(JSON.stringify({
    statuses: [first.status, second.status],
    contentType: second.headers.get('content-type'),
    exception: typeof RateLimitException === 'function',
  }));
})();
`;
