// Express ladder step 2: controls/express-noop-middleware.mjs (step 1) with the middleware setting
// our two fields as constants (`res.setHeader`, as the adapter does). What any Express limiter
// writing the two fields costs at the least.
import express from 'express';
import { announce, BODY, HOST, PATHS, PORT } from '../apps/shared.mjs';

const app = express();
app.get(
  PATHS.allowed.route,
  (_req, res, next) => {
    res.setHeader('RateLimit-Policy', '"GET /a";q=1000000000;w=86400');
    res.setHeader('RateLimit', '"GET /a";r=999999999;t=1');
    next();
  },
  (_req, res) => {
    res.json(BODY);
  },
);
const server = app.listen(PORT, HOST, () => announce(server));
