// Koa 3 with @koa/router, without a limiter, answering GET /d as our limiter answers a denial
// (status, headers, problem body as constants): the baseline of the Koa denied rows.
import Router from '@koa/router';
import Koa from 'koa';
import { announce, DENIAL, HOST, PATHS, PORT } from './shared.mjs';

const app = new Koa();
const router = new Router();
router.get(PATHS.denied.route, (ctx) => {
  ctx.status = DENIAL.status;
  ctx.set(DENIAL.headers);
  ctx.type = DENIAL.contentType;
  ctx.body = DENIAL.body;
});
app.use(router.routes());
const server = app.listen(PORT, HOST, () => announce(server));
