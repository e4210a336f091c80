// The metrics packages as users get them: packed with `pnpm pack`, installed from the tarballs into
// a project outside the workspace (test/packaging/pack.ts), and used from ESM and from CommonJS.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expectPublishedFiles, sharedConsumer } from './pack';

const root = join(__dirname, '..', '..');
const PACKAGES = ['core', 'prometheus', 'opentelemetry'];

/** The consumer's install (shared with hono-tarball.test.ts) and this file's own directory in it. */
let consumerDir: string;
let dir: string;
let tarballs: Record<string, string>;

beforeAll(() => {
  ({ dir: consumerDir, work: dir, tarballs } = sharedConsumer());
  for (const [file, source] of Object.entries({ ...SCRIPTS, ...SUBPATHS })) writeFileSync(join(dir, file), source);
}, 180_000);

afterAll(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

test('the tarballs hold the builds, the types and the docs, and nothing of the sources', () => {
  for (const pkg of ['prometheus', 'opentelemetry']) expectPublishedFiles(tarballs[pkg]!);
  // Every package, core included, came from this workspace's tarballs.
  for (const pkg of PACKAGES) {
    const installed = readFileSync(join(consumerDir, 'node_modules/@tokenbucket', pkg, 'dist/cjs/index.js'), 'utf8');
    expect(installed).toBe(readFileSync(join(root, 'packages', pkg, 'dist/cjs/index.js'), 'utf8'));
  }
});

test.each(['esm.mjs', 'cjs.cjs'])('%s: both packages count the same decisions', (file) => {
  const out = JSON.parse(execFileSync(process.execPath, [file], { cwd: dir, encoding: 'utf8' }));
  expect(out).toEqual({
    format: file.startsWith('esm') ? 'esm' : 'cjs',
    prometheus: [
      'tokenbucket_decisions_total{route="",policy="packed",outcome="allowed",source="memory",kind="rate"} 1',
      'tokenbucket_decisions_total{route="",policy="packed",outcome="denied",source="memory",kind="rate"} 1',
    ],
    opentelemetry: [
      ['allowed', 1],
      ['denied', 1],
    ],
  });
});

test.each(['subpaths.mjs', 'subpaths.cjs'])('%s: each subpath of core loads from the tarball, and shares its modules with the main entry', (file) => {
  const out = JSON.parse(execFileSync(process.execPath, [file], { cwd: dir, encoding: 'utf8' }));
  expect(out).toEqual({
    adapter: { createHttpLimiter: 'function', routeId: 'GET /items/:id', problemDetails: 'function' },
    metrics: { subscribeMetrics: 'function', OTHER: '(other)', ONE_NODE: 'string' },
    store: { bucketKey: 'p:policy:{id}', hashCallerKey: 22 },
    // One TokenBucketError class, whichever entry threw it.
    sameError: true,
    code: 'TB_ERR_INVALID_OPTION',
  });
});

/** What tsc reports for a project in the consumer's directory ('' when it type-checks). */
function tscErrors(config: string): string {
  const tsc = require.resolve('typescript/bin/tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', config], { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
    return '';
  } catch (err) {
    return String((err as { stdout?: string }).stdout) || String(err);
  }
}

test.each([
  ['Node16 (ESM and CommonJS files, through `exports`)', 'tsconfig.node16.json'],
  ['Node10 (`moduleResolution: node`, through `typesVersions`)', 'tsconfig.node10.json'],
  ['Bundler', 'tsconfig.bundler.json'],
])('TypeScript consumers of the subpaths type-check: %s', (_label, config) => {
  expect(tscErrors(config)).toBe('');
});

test('a type error through a subpath is caught: the check is not vacuous', () => {
  writeFileSync(join(dir, 'wrong.mts'), "import { routeId } from '@tokenbucket/core/adapter';\nexport const n: number = routeId('GET', '/');\n");
  writeFileSync(join(dir, 'tsconfig.wrong.json'), tsconfig('Node16', 'Node16', ['wrong.mts']));
  expect(tscErrors('tsconfig.wrong.json')).toMatch(/wrong\.mts.*error TS2322: Type 'string' is not assignable to type 'number'/);
});

/** One program, in both module formats: two decisions, read from prom-client and from the OpenTelemetry SDK. */
const body = (format: string) => `
  class Reader extends MetricReader {
    async onShutdown() {}
    async onForceFlush() {}
  }
  const register = new Registry();
  const prom = registerMetrics({ register });
  const reader = new Reader();
  const provider = new MeterProvider({ readers: [reader] });
  const otel = registerOpenTelemetry({ meterProvider: provider });
  const store = new MemoryStore();
  const limiter = createLimiter({ store, name: 'packed', capacity: 1, refillPerSecond: 1 / 60 });
  await limiter.take('k');
  await limiter.take('k');
  store.close();
  const prometheus = (await register.metrics()).split('\\n').filter((l) => l.startsWith('tokenbucket_decisions_total'));
  const { resourceMetrics } = await reader.collect();
  const decisions = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === 'tokenbucket.decisions');
  const opentelemetry = decisions.dataPoints.map((p) => [p.attributes.outcome, p.value]);
  prom.close();
  otel.close();
  await provider.shutdown();
  console.log(JSON.stringify({ format: '${format}', prometheus, opentelemetry }));
`;
const SCRIPTS: Record<string, string> = {
  'esm.mjs': `import { createLimiter, MemoryStore } from '@tokenbucket/core';
import { registerMetrics } from '@tokenbucket/prometheus';
import { registerMetrics as registerOpenTelemetry } from '@tokenbucket/opentelemetry';
import { Registry } from 'prom-client';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
${body('esm')}`,
  'cjs.cjs': `const { createLimiter, MemoryStore } = require('@tokenbucket/core');
const { registerMetrics } = require('@tokenbucket/prometheus');
const { registerMetrics: registerOpenTelemetry } = require('@tokenbucket/opentelemetry');
const { Registry } = require('prom-client');
const { MeterProvider, MetricReader } = require('@opentelemetry/sdk-metrics');
(async () => {
${body('cjs')}
})();`,
};

/** Consumers of the subpaths: programs run as ESM and CommonJS, and typed files checked three ways. */
const subpathsBody = `
  let thrown;
  try {
    invalidOption('x', 1, 'a string');
  } catch (err) {
    thrown = err;
  }
  console.log(JSON.stringify({
    adapter: { createHttpLimiter: typeof createHttpLimiter, routeId: routeId('GET', '/items/:id'), problemDetails: typeof problemDetails },
    metrics: { subscribeMetrics: typeof subscribeMetrics, OTHER, ONE_NODE: typeof ONE_NODE },
    store: { bucketKey: bucketKey('p:', 'policy', 'id'), hashCallerKey: hashCallerKey('key').length },
    sameError: thrown instanceof TokenBucketError,
    code: thrown.code,
  }));
`;
const typed = `
import type { Decision, TokenBucketErrorCode } from '@tokenbucket/core';
import { createHttpLimiter, routeId, type AdapterOptions, type HttpAdapter } from '@tokenbucket/core/adapter';
import { subscribeMetrics, type MetricsRecorder } from '@tokenbucket/core/metrics';
import { bucketKey, type Store, type TakeResult } from '@tokenbucket/core/store';

type Req = { headers: Record<string, string | undefined>; ip?: string };
type Res = { sent: boolean; status?: number };
type OnLimited = (req: Req, res: Res, decision: Decision) => void;
const adapter: HttpAdapter<Req, Res, OnLimited> = {
  incoming: (req) => req,
  ip: (req) => req.ip,
  headersSent: (res) => res.sent,
  setHeader: () => undefined,
  send: (res, status) => {
    res.status = status;
  },
  callOnLimited: (onLimited, req, res, decision) => onLimited(req, res, decision),
};
const options: AdapterOptions<Req, OnLimited> = { capacity: 1, refillPerSecond: 1, missingKey: 'reject', storeFailure: 'deny' };
export const limiter = createHttpLimiter(adapter, options);
export const route: string = routeId('GET', '/');
const recorder: MetricsRecorder = { storeCall: () => undefined };
export const subscription = subscribeMetrics(100, recorder);
export const key: string = bucketKey('p:', 'policy', 'id');
export const take = async (store: Store): Promise<TakeResult> => store.take('id', [], 1);
export const code: TokenBucketErrorCode = 'TB_ERR_INVALID_OPTION';
`;
const tsconfig = (module: string, resolution: string, files: string[]) =>
  JSON.stringify({ compilerOptions: { strict: true, noEmit: true, module, moduleResolution: resolution, target: 'ES2022', types: ['node'] }, files });
const SUBPATHS: Record<string, string> = {
  'subpaths.mjs': `import { TokenBucketError } from '@tokenbucket/core';
import { createHttpLimiter, invalidOption, problemDetails, routeId } from '@tokenbucket/core/adapter';
import { ONE_NODE, OTHER, subscribeMetrics } from '@tokenbucket/core/metrics';
import { bucketKey, hashCallerKey } from '@tokenbucket/core/store';
${subpathsBody}`,
  'subpaths.cjs': `const { TokenBucketError } = require('@tokenbucket/core');
const { createHttpLimiter, invalidOption, problemDetails, routeId } = require('@tokenbucket/core/adapter');
const { ONE_NODE, OTHER, subscribeMetrics } = require('@tokenbucket/core/metrics');
const { bucketKey, hashCallerKey } = require('@tokenbucket/core/store');
${subpathsBody}`,
  'typed.mts': typed,
  'typed.cts': typed,
  'typed.ts': typed,
  'tsconfig.node16.json': tsconfig('Node16', 'Node16', ['typed.mts', 'typed.cts']),
  'tsconfig.node10.json': tsconfig('CommonJS', 'Node10', ['typed.ts']),
  'tsconfig.bundler.json': tsconfig('ESNext', 'Bundler', ['typed.ts']),
};
