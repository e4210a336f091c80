// Koa ladder step 2: step 1 with the middleware setting our two fields as constants (`ctx.set`,
// as the adapter does). What any Koa limiter writing the two fields costs at the least.
import Router from '@koa/router';
import Koa from 'koa';
import { announce, BODY, HOST, PATHS, PORT } from '../apps/shared.mjs';

const app = new Koa();
const router = new Router();
router.get(
  PATHS.allowed.route,
  (ctx, next) => {
    ctx.set('RateLimit-Policy', '"GET /a";q=1000000000;w=86400');
    ctx.set('RateLimit', '"GET /a";r=999999999;t=1');
    return next();
  },
  (ctx) => {
    ctx.body = BODY;
  },
);
app.use(router.routes());
const server = app.listen(PORT, HOST, () => announce(server));
