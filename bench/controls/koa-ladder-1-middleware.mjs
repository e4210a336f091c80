// Koa ladder step 1: the no-limiter Koa app (apps/koa-none.mjs) with one route middleware before
// the handler, in the style ours uses (not async, returns `next()`). Isolates @koa/router and
// koa-compose running one more middleware.
import Router from '@koa/router';
import Koa from 'koa';
import { announce, BODY, HOST, PATHS, PORT } from '../apps/shared.mjs';

const app = new Koa();
const router = new Router();
router.get(
  PATHS.allowed.route,
  (_ctx, next) => next(),
  (ctx) => {
    ctx.body = BODY;
  },
);
app.use(router.routes());
const server = app.listen(PORT, HOST, () => announce(server));
