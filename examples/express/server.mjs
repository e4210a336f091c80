// Express example: three limited routes with different policies, and an unlimited health check.
import { connectStore, limits, port } from '@tokenbucket/example-shared';
import { rateLimit } from '@tokenbucket/express';
import express from 'express';

const { store, label, close } = await connectStore();
console.log(`Store: ${label}`);

const app = express();
const catalog = rateLimit({ store, ...limits.catalog });
app.get('/search', rateLimit({ store, ...limits.search }), (req, res) => {
  res.json({ results: [], q: req.query.q ?? '' });
});
app.get('/items', catalog, (_req, res) => res.json({ items: [1, 2, 3] }));
app.get('/items/:id', catalog, (req, res) => res.json({ id: req.params.id }));
app.post('/reports', rateLimit({ store, ...limits.reports }), (_req, res) => res.status(202).json({ queued: true }));
app.get('/health', (_req, res) => res.json({ ok: true }));

const server = app.listen(port, '127.0.0.1', () => {
  console.log(`express example listening on http://127.0.0.1:${server.address().port}`);
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => server.close(() => void close()));
}
