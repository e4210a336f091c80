// Hono example (Node.js, @hono/node-server): three limited routes with different policies, and an
// unlimited health check.
import { serve } from '@hono/node-server';
import { connectStore, limits, port } from '@tokenbucket/example-shared';
import { rateLimit } from '@tokenbucket/hono';
import { Hono } from 'hono';

const { store, label, close } = await connectStore();
console.log(`Store: ${label}`);

const app = new Hono();
const catalog = rateLimit({ store, ...limits.catalog });
app.get('/search', rateLimit({ store, ...limits.search }), (c) => c.json({ results: [], q: c.req.query('q') ?? '' }));
app.get('/items', catalog, (c) => c.json({ items: [1, 2, 3] }));
app.get('/items/:id', catalog, (c) => c.json({ id: c.req.param('id') }));
app.post('/reports', rateLimit({ store, ...limits.reports }), (c) => c.json({ queued: true }, 202));
app.get('/health', (c) => c.json({ ok: true }));

const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, (info) => {
  console.log(`hono example listening on http://127.0.0.1:${info.port}`);
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => server.close(() => void close()));
}
