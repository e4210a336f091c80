// A CommonJS TypeScript app with ioredis.
import core = require('@tokenbucket/core');
import IORedis = require('ioredis');

export const store = new core.RedisStore({ client: new IORedis.Redis() });
export const clusterStore = new core.RedisStore({ client: new IORedis.Cluster([{ host: '127.0.0.1', port: 7000 }]) });
// @ts-expect-error: timeoutMs is a number
export const wrong = new core.RedisStore({ client: new IORedis.Redis(), timeoutMs: '200' });
