// A small Express app behind one limiter, on 127.0.0.1, and a bounded load of real HTTP requests.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { rateLimit, type RateLimitOptions } from '@tokenbucket/express';

export interface ExpressApp {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Errors that reached the app's error handler. */
  errors: unknown[];
  close(): Promise<void>;
}

/** Blocks the event loop for `ms`, as a large JSON.stringify or a synchronous crypto call would. */
export function blockEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
}

/**
 * `GET /r` behind `rateLimit(options)`: 200 `{ ok: true }`; with `?block=<ms>`, the handler calls
 * `beforeBlock`, and the event loop is blocked that long before the answer (then `afterBlock` is
 * called). The block runs from `setImmediate`, queued after the store's batch of this turn (which
 * goes out from its own `setImmediate`, queued first): in the same check phase, right after the
 * takes of the turn (`beforeBlock`'s among them) have been sent, and before the loop's next poll
 * phase can read their replies, however fast Redis answers. (From a timer, the block raced the
 * replies: `setTimeout(fn, 0)` waits at least 1 ms, and a reply that arrives within it is read
 * first.) Errors go to an error handler that answers 500 with the error's code and message.
 */
export async function startExpressApp(options: RateLimitOptions, beforeBlock?: () => void, afterBlock?: () => void): Promise<ExpressApp> {
  const app = express();
  const errors: unknown[] = [];
  app.get('/r', rateLimit(options), (req, res) => {
    const block = Number(req.query.block ?? 0);
    if (block === 0) return void res.json({ ok: true });
    beforeBlock?.();
    setImmediate(() => {
      blockEventLoop(block);
      afterBlock?.();
      res.json({ ok: true });
    });
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    errors.push(err);
    const e = err as { code?: unknown; message?: unknown };
    res.status(500).json({ code: e.code, message: e.message });
  });
  const server: Server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    errors,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export interface LoadResult {
  /** Responses per status. */
  statuses: Map<number, number>;
  /** Requests that failed without a response. */
  failures: unknown[];
  requests: number;
}

/**
 * `concurrency` loops of `GET url/r` with `x-api-key` set to one of `keys` in turn, for
 * `durationMs` or until `stop()` resolves true. Bounded: it ends by itself.
 */
export async function runLoad(options: {
  url: string;
  keys: readonly string[];
  concurrency: number;
  durationMs: number;
  stop?: () => boolean;
}): Promise<LoadResult> {
  const { url, keys, concurrency, durationMs, stop } = options;
  const result: LoadResult = { statuses: new Map(), failures: [], requests: 0 };
  const until = performance.now() + durationMs;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < until && stop?.() !== true) {
      const key = keys[next++ % keys.length]!;
      result.requests++;
      try {
        const res = await fetch(`${url}/r`, { headers: { 'x-api-key': key } });
        await res.arrayBuffer();
        result.statuses.set(res.status, (result.statuses.get(res.status) ?? 0) + 1);
      } catch (err) {
        result.failures.push(err);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return result;
}
