// Type-checks a CommonJS TypeScript consumer against the built declarations.
import core = require('@tokenbucket/core');

const limiter: core.Limiter = core.createLimiter({ policies: [{ name: 'a', capacity: 1, refillPerSecond: 1 }] });
export const remaining: Promise<number> = limiter.take('key').then((d) => d.remaining);
// @ts-expect-error: take's options have no `weight`
void limiter.take('key', { weight: 2 });

import express = require('@tokenbucket/express');
import fastify = require('@tokenbucket/fastify');
export const handler = express.rateLimit({ capacity: 1, refillPerSecond: 1 });
export const plugin = fastify.tokenBucket;

import hono = require('@tokenbucket/hono');
export const honoMiddleware = hono.rateLimit({ capacity: 1, refillPerSecond: 1, ip: () => undefined });

import prometheus = require('@tokenbucket/prometheus');
import opentelemetry = require('@tokenbucket/opentelemetry');
export const closers: (() => void)[] = [prometheus.registerMetrics().close, opentelemetry.registerMetrics().close];
