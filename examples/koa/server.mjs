// Koa example: three limited routes with different policies, and an unlimited health check.
import Router from '@koa/router';
import { connectStore, limits, port } from '@tokenbucket/example-shared';
import { rateLimit } from '@tokenbucket/koa';
import Koa from 'koa';

const { store, label, close } = await connectStore();
console.log(`Store: ${label}`);

const app = new Koa();
const router = new Router();
const catalog = rateLimit({ store, ...limits.catalog });
router.get('/search', rateLimit({ store, ...limits.search }), (ctx) => {
  ctx.body = { results: [], q: ctx.query.q ?? '' };
});
router.get('/items', catalog, (ctx) => {
  ctx.body = { items: [1, 2, 3] };
});
router.get('/items/:id', catalog, (ctx) => {
  ctx.body = { id: ctx.params.id };
});
router.post('/reports', rateLimit({ store, ...limits.reports }), (ctx) => {
  ctx.status = 202;
  ctx.body = { queued: true };
});
router.get('/health', (ctx) => {
  ctx.body = { ok: true };
});
app.use(router.routes()).use(router.allowedMethods());

const server = app.listen(port, '127.0.0.1', () => {
  console.log(`koa example listening on http://127.0.0.1:${server.address().port}`);
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => server.close(() => void close()));
}
