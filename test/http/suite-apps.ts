// What the shared HTTP suites set up alike: apps built through a harness on a Redis store of
// the suite's own (random prefix), each closed after its test.
import { randomBytes } from 'node:crypto';
import { RedisStore } from '@tokenbucket/core';
import { randomPrefix, RedisPool } from '../support/redis';
import type { AdapterHarness, AppSpec, LimitOptions, RunningApp } from './harness';
import { startApp } from './running-app';

/** One token an hour: no refill to speak of within a test. */
export const SLOW = 1 / 3600;

export interface SuiteApps {
  readonly harness: AdapterHarness;
  readonly pool: RedisPool;
  readonly prefix: string;
  /** The suite's RedisStore (set in beforeAll). */
  readonly store: RedisStore;
  /** Builds and starts an app; it is closed after the test. */
  start(spec: AppSpec): Promise<RunningApp>;
  /** One limited GET route on a fresh path, so buckets never leak between tests. */
  single(limit: LimitOptions, extra?: Partial<AppSpec>, path?: string): Promise<{ app: RunningApp; path: string }>;
}

/** Call inside a `describe`: registers the hooks that open and close what the suite uses. */
export function suiteApps(harness: AdapterHarness, label: string): SuiteApps {
  const pool = new RedisPool();
  const prefix = randomPrefix(label);
  const apps: RunningApp[] = [];
  let store: RedisStore | undefined;
  beforeAll(() => {
    store = new RedisStore({ client: pool.client(), prefix });
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });
  afterAll(() => pool.closeAll([prefix]));

  const suite: SuiteApps = {
    harness,
    pool,
    prefix,
    get store(): RedisStore {
      if (store === undefined) throw new Error('the suite store exists from beforeAll on');
      return store;
    },
    async start(spec) {
      const app = await startApp(harness, spec);
      apps.push(app);
      return app;
    },
    single(limit, extra = {}, path = `/r${randomBytes(3).toString('hex')}`) {
      return suite.start({ routes: [{ method: 'GET', path, limit: { store: suite.store, ...limit } }], ...extra }).then((app) => ({ app, path }));
    },
  };
  return suite;
}
