// Compile-time checks (run by `pnpm typecheck`): RedisStore takes every client it claims, as the
// client libraries type them, without a cast. Nothing here runs.
import { RedisStore } from '@tokenbucket/core';
import Redis5, { Cluster as Cluster5 } from 'ioredis';
import { Cluster as Cluster6, Redis as Redis6 } from 'ioredis6';
import { createClient as createClient4, createCluster as createCluster4 } from 'redis4';
import { createClient as createClient5, createCluster as createCluster5 } from 'redis5';
import { createClient as createClient6, createCluster as createCluster6 } from 'redis6';

export function typeChecks(): RedisStore[] {
  const rootNodes = [{ url: 'redis://127.0.0.1:7000' }];
  return [
    new RedisStore({ client: new Redis5() }),
    new RedisStore({ client: new Cluster5([{ host: '127.0.0.1', port: 7000 }]) }),
    new RedisStore({ client: new Redis6() }),
    new RedisStore({ client: new Cluster6([{ host: '127.0.0.1', port: 7000 }]) }),
    new RedisStore({ client: createClient4() }),
    new RedisStore({ client: createCluster4({ rootNodes }) }),
    new RedisStore({ client: createClient5() }),
    new RedisStore({ client: createCluster5({ rootNodes }) }),
    new RedisStore({ client: createClient6() }),
    new RedisStore({ client: createCluster6({ rootNodes }) }),
    // @ts-expect-error: a URL is not a client
    new RedisStore({ client: 'redis://127.0.0.1:6379' }),
  ];
}
