// Small apps on Express, Fastify and Koa with the same limited routes, for the metrics tests.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import Router from '@koa/router';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import type { HttpLimiterOptions } from '@tokenbucket/core';
import { rateLimit as expressRateLimit } from '@tokenbucket/express';
import tokenBucket from '@tokenbucket/fastify';
import { rateLimit as koaRateLimit } from '@tokenbucket/koa';

// biome-ignore lint/suspicious/noExplicitAny: one set of options for three frameworks' request types
export type Limit = HttpLimiterOptions<any>;

export interface Route {
  method: 'GET' | 'POST';
  /** A pattern all three frameworks read alike: `/items/:id`. */
  path: string;
  limit: Limit;
}

export interface App {
  /** `http://127.0.0.1:<port>` */
  url: string;
  close(): Promise<void>;
}

export type Framework = 'express' | 'fastify' | 'koa';
export const FRAMEWORKS: Framework[] = ['express', 'fastify', 'koa'];

/** Starts an app of `framework` on 127.0.0.1 whose routes answer 200 `{ ok: true }` past their limiter. */
export async function startApp(framework: Framework, routes: Route[]): Promise<App> {
  if (framework === 'fastify') {
    const app = Fastify();
    await app.register(tokenBucket);
    for (const r of routes) app.route({ method: r.method, url: r.path, config: { rateLimit: r.limit }, handler: async () => ({ ok: true }) });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    return { url, close: () => app.close() };
  }
  let server: Server;
  if (framework === 'express') {
    const app = express();
    for (const r of routes) {
      app[r.method === 'GET' ? 'get' : 'post'](r.path, expressRateLimit(r.limit), (_req, res) => void res.json({ ok: true }));
    }
    server = app.listen(0, '127.0.0.1');
  } else {
    const app = new Koa();
    const router = new Router();
    for (const r of routes) {
      router[r.method === 'GET' ? 'get' : 'post'](r.path, koaRateLimit(r.limit), (ctx) => {
        ctx.body = { ok: true };
      });
    }
    app.use(router.routes());
    server = app.listen(0, '127.0.0.1');
  }
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
