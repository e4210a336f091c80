// Compile-time checks (run by `pnpm typecheck`): the adapters' options are typed, so a wrong
// option is a compile error. Nothing here runs.
import Fastify, { type FastifyContextConfig } from 'fastify';
import express from 'express';
import Koa from 'koa';
import { createLimiter } from '@tokenbucket/core';
import { rateLimit as expressRateLimit } from '@tokenbucket/express';
import tokenBucket from '@tokenbucket/fastify';
import { rateLimit as koaRateLimit } from '@tokenbucket/koa';

export async function typeChecks(): Promise<void> {
  const app = express();
  app.get('/ok', expressRateLimit({ capacity: 10, refillPerSecond: 2, key: (req) => req.get('x-tenant') }));
  // @ts-expect-error: capacity is a number
  expressRateLimit({ capacity: '10', refillPerSecond: 2 });
  // @ts-expect-error: missingKey is 'ip' | 'reject' | 'skip'
  expressRateLimit({ capacity: 10, refillPerSecond: 2, missingKey: 'ignore' });
  // @ts-expect-error: an unknown option
  expressRateLimit({ capacity: 10, refillPerSecond: 2, windowMs: 1000 });

  const koa = new Koa();
  koa.use(
    koaRateLimit({
      capacity: 5,
      refillPerSecond: 1,
      onLimited: (ctx, decision) => {
        ctx.body = decision.remaining;
      },
    }),
  );
  // @ts-expect-error: storeFailure is 'fallback' | 'allow' | 'deny'
  koaRateLimit({ capacity: 5, refillPerSecond: 1, storeFailure: 'retry' });
  // @ts-expect-error: onStoreError is the callback; the strategy is storeFailure
  koaRateLimit({ capacity: 5, refillPerSecond: 1, onStoreError: 'deny' });
  // @ts-expect-error: onMissingKey is now missingKey
  koaRateLimit({ capacity: 5, refillPerSecond: 1, onMissingKey: 'reject' });
  koaRateLimit({
    capacity: 5,
    refillPerSecond: 1,
    storeFailure: 'deny',
    onStoreError: (event) => void [event.route, event.action satisfies 'fallback' | 'allow' | 'deny'],
    onStoreStatus: (change) => void [change.store, change.node, change.status],
  });

  const fastify = Fastify();
  await fastify.register(tokenBucket, { global: false });
  fastify.get('/a', { config: { rateLimit: { capacity: 10, refillPerSecond: 2 } } }, async () => 'a');
  fastify.get('/b', { config: { rateLimit: false } }, async () => 'b');
  fastify.get('/c', { onRequest: fastify.rateLimit({ capacity: 5, refillPerSecond: 1 }) }, async () => 'c');
  // @ts-expect-error: config.rateLimit takes options or false
  const config: FastifyContextConfig = { rateLimit: true };
  void config;
  // @ts-expect-error: cost is a number or a function returning one
  fastify.get('/e', { config: { rateLimit: { capacity: 1, refillPerSecond: 1, cost: 'high' } } }, async () => 'e');
  await fastify.register(tokenBucket, { hook: 'preHandler' });
  fastify.get('/h', { config: { rateLimit: { capacity: 1, refillPerSecond: 1, hook: 'preValidation' } } }, async () => 'h');
  // The hook fastify.rateLimit() returns fits every request hook the option names.
  const limit = fastify.rateLimit({ capacity: 1, refillPerSecond: 1 });
  fastify.get('/i', { onRequest: limit, preParsing: limit, preValidation: limit, preHandler: [limit] }, async () => 'i');
  // @ts-expect-error: hook is one of the four request hooks before the handler
  fastify.get('/f', { config: { rateLimit: { capacity: 1, refillPerSecond: 1, hook: 'onSend' } } }, async () => 'f');
  // @ts-expect-error: fastify.rateLimit() runs where it is added: no hook option
  fastify.rateLimit({ capacity: 1, refillPerSecond: 1, hook: 'preHandler' });

  // @ts-expect-error: refillPerSecond is required with capacity... as a number
  createLimiter({ capacity: 1, refillPerSecond: '1' });
}
