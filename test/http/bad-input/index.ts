// Bad input and abuse: every odd caller key a client can send, and every garbage a `key` or
// `cost` function can return, has one defined answer on Express, Fastify and Koa.
import { requireRedis } from '../../support/redis';
import type { AdapterHarness } from '../harness';
import { suiteApps } from '../suite-apps';
import { byteCases } from './bytes';
import { functionCases } from './functions';
import { keylessCases } from './keyless';
import { longKeyCases } from './long-keys';

export function runBadInputContract(harness: AdapterHarness): void {
  describe(`bad input: ${harness.name}`, () => {
    requireRedis();
    const suite = suiteApps(harness, `bad-${harness.name}`);
    keylessCases(suite);
    longKeyCases(suite);
    byteCases(suite);
    functionCases(suite);
  });
}
