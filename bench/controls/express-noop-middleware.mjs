// A control, not a limiter: the Express 5 no-limiter app (apps/express-none.mjs) with one
// synchronous no-op middleware before the handler. It does a little more work per request than
// the baseline, never less, so its ratio against it measures only the spread between runs:
//   node bench/compare.mjs --rounds=6 bench/apps/express-none.mjs bench/controls/express-noop-middleware.mjs
import express from 'express';
import { announce, BODY, HOST, PATHS, PORT } from '../apps/shared.mjs';

const app = express();
for (const { route } of Object.values(PATHS)) {
  app.get(
    route,
    (_req, _res, next) => next(),
    (_req, res) => {
      res.json(BODY);
    },
  );
}
const server = app.listen(PORT, HOST, () => announce(server));
