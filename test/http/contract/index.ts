// The HTTP contract: every case runs on Express, Fastify and Koa through a small harness, driven
// through supertest against real HTTP servers on 127.0.0.1 and a real Redis. All assertions live
// in the case modules beside this one; an adapter's test file only builds its harness.
import { requireRedis } from '../../support/redis';
import type { AdapterHarness } from '../harness';
import { suiteApps } from '../suite-apps';
import { concurrencyCases } from './concurrency';
import { costCases } from './cost';
import { headerCases } from './headers';
import { hookCases } from './hooks';
import { keyCases } from './keys';
import { methodCases } from './methods';
import { optionErrorCases } from './option-errors';
import { policyCases } from './policies';
import { requestCases } from './request';
import { storeFailureCases } from './store-failure';

export function runHttpContract(harness: AdapterHarness): void {
  describe(`HTTP contract: ${harness.name}`, () => {
    requireRedis();
    const suite = suiteApps(harness, `http-${harness.name}`);
    headerCases(suite);
    keyCases(suite);
    methodCases(suite);
    costCases(suite);
    policyCases(suite);
    hookCases(suite);
    storeFailureCases(suite);
    requestCases(suite);
    concurrencyCases(suite);
    optionErrorCases(suite);
  });
}
