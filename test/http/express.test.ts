// Express runs the shared HTTP suites: this file only builds the harness (`http.createServer(app)`).
import { createServer } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { rateLimit, type RateLimitOptions } from '@tokenbucket/express';
import { runBadInputContract } from './bad-input';
import { runHttpContract } from './contract';
import { runFaultContract } from './faults';
import { limitsOf, routeAnswer } from './handler';
import type { AdapterHarness, AppSpec } from './harness';

const harness: AdapterHarness = {
  name: 'express',
  async build(spec: AppSpec) {
    const app = express();
    app.set('trust proxy', spec.trustProxy === true);
    for (const group of spec.groups ?? []) app.use(group.prefix, rateLimit(group.limit as RateLimitOptions));
    for (const route of spec.routes) {
      const handlers = limitsOf(route).map((limit) => rateLimit(limit as RateLimitOptions));
      app[route.method === 'GET' ? 'get' : 'post'](route.path, ...handlers, (_req: Request, res: Response) => {
        void routeAnswer(route).then(({ status, body }) => res.status(status).json(body));
      });
    }
    app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
      res.status(500).json({ handledBy: 'framework', message: err.message });
    });
    return { server: createServer(app) };
  },
  header: (req, name) => (req as Request).get(name),
  onLimited: (status) => (_req: Request, res: Response, decision: { policy: string }) => {
    res.status(status).json({ custom: true, policy: decision.policy });
  },
};

runHttpContract(harness);
runBadInputContract(harness);
runFaultContract(harness);
