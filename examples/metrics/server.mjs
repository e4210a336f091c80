// Metrics example: the Express example's limited routes, and GET /metrics for Prometheus to scrape.
import { connectStore, limits, port } from '@tokenbucket/example-shared';
import { rateLimit } from '@tokenbucket/express';
import { registerMetrics } from '@tokenbucket/prometheus';
import express from 'express';
import { register } from 'prom-client';

const { store, label, close } = await connectStore();
console.log(`Store: ${label}`);

// Every limiter and store in the process is counted, on prom-client's default registry.
const metrics = registerMetrics();

const app = express();
const catalog = rateLimit({ store, ...limits.catalog });
app.get('/search', rateLimit({ store, ...limits.search }), (req, res) => {
  res.json({ results: [], q: req.query.q ?? '' });
});
app.get('/items', catalog, (_req, res) => res.json({ items: [1, 2, 3] }));
app.get('/items/:id', catalog, (req, res) => res.json({ id: req.params.id }));
app.post('/reports', rateLimit({ store, ...limits.reports }), (_req, res) => res.status(202).json({ queued: true }));
app.get('/health', (_req, res) => res.json({ ok: true }));
// In production, serve this on an internal port or behind authentication.
app.get('/metrics', async (_req, res) => {
  res.set('Content-Type', register.contentType).send(await register.metrics());
});

const server = app.listen(port, '127.0.0.1', () => {
  console.log(`metrics example listening on http://127.0.0.1:${server.address().port} (Prometheus metrics on /metrics)`);
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () =>
    server.close(() => {
      metrics.close();
      void close();
    }),
  );
}
