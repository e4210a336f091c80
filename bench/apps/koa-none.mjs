// Koa 3 with @koa/router and without a limiter: the baseline of the Koa rows. Loads Koa and its
// router and nothing else.
import Router from '@koa/router';
import Koa from 'koa';
import { announce, BODY, HOST, PATHS, PORT } from './shared.mjs';

const app = new Koa();
const router = new Router();
for (const { route } of Object.values(PATHS)) {
  router.get(route, (ctx) => {
    ctx.body = BODY;
  });
}
app.use(router.routes());
const server = app.listen(PORT, HOST, () => announce(server));
