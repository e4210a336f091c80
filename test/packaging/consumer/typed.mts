// Type-checks an ESM TypeScript consumer against the built declarations.
import { createLimiter, type Decision, type LimiterOptions } from '@tokenbucket/core';

const options: LimiterOptions = { capacity: 10, refillPerSecond: 2, name: 'search' };
const decision: Promise<Decision> = createLimiter(options).take('key', { cost: 2 });
export const allowed: Promise<boolean> = decision.then((d) => d.allowed);
// @ts-expect-error: capacity is a number
export const wrong: LimiterOptions = { capacity: '10', refillPerSecond: 2 };

import { rateLimit } from '@tokenbucket/express';
import tokenBucket from '@tokenbucket/fastify';
import { rateLimit as koaRateLimit } from '@tokenbucket/koa';
export const handlers = [rateLimit({ capacity: 1, refillPerSecond: 1 }), koaRateLimit({ capacity: 1, refillPerSecond: 1 })];
export const plugin = tokenBucket;

import { rateLimit as honoRateLimit, type RateLimitOptions as HonoOptions } from '@tokenbucket/hono';
import type { MiddlewareHandler } from 'hono';
const honoOptions: HonoOptions = { capacity: 1, refillPerSecond: 1, ip: (c) => c.req.header('x-real-ip'), onLimited: (c) => c.text('slow down', 429) };
export const honoMiddleware: MiddlewareHandler = honoRateLimit(honoOptions);
// @ts-expect-error: onLimited returns a Response in Hono
honoRateLimit({ capacity: 1, refillPerSecond: 1, onLimited: (c: unknown) => void c });

import { registerMetrics, type PrometheusMetrics } from '@tokenbucket/prometheus';
import { registerMetrics as registerOpenTelemetry, type OpenTelemetryMetrics } from '@tokenbucket/opentelemetry';
import { Registry } from 'prom-client';
export const prometheus: PrometheusMetrics = registerMetrics({ register: new Registry(), prefix: 'app_tokenbucket_', buckets: [0.001, 0.01] });
export const opentelemetry: OpenTelemetryMetrics = registerOpenTelemetry({ maxLabelValues: 100 });
// @ts-expect-error: the registry option is `register`
registerMetrics({ registry: new Registry() });
