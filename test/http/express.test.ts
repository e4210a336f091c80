// Express runs the HTTP contract: this file only builds the harness.
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { rateLimit, type RateLimitOptions } from '@tokenbucket/express';
import { runBadInputContract } from './bad-input';
import { runHttpContract, type AdapterHarness, type AppSpec } from './contract';
import { runFaultContract } from './faults';

const harness: AdapterHarness = {
  name: 'express',
  async start(spec: AppSpec) {
    const app = express();
    app.set('trust proxy', spec.trustProxy === true);
    for (const route of spec.routes) {
      const handlers = route.limit ? [rateLimit(route.limit as RateLimitOptions)] : [];
      app[route.method === 'GET' ? 'get' : 'post'](route.path, ...handlers, (_req: Request, res: Response) => {
        res.json({ ok: true });
      });
    }
    app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
      res.status(500).json({ handledBy: 'framework', message: err.message });
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
    };
  },
  header: (req, name) => (req as Request).get(name),
  onLimited: (status) => (_req: Request, res: Response, decision: { policy: string }) => {
    res.status(status).json({ custom: true, policy: decision.policy });
  },
};

runHttpContract(harness);
runBadInputContract(harness);
runFaultContract(harness);
