// Fastify example: three limited routes with different policies, and an unlimited health check.
import { connectStore, limits, port } from '@tokenbucket/example-shared';
import tokenBucket from '@tokenbucket/fastify';
import Fastify from 'fastify';

const { store, label, close } = await connectStore();
console.log(`Store: ${label}`);

const app = Fastify();
await app.register(tokenBucket, { store });
app.get('/search', { config: { rateLimit: limits.search } }, async (request) => ({ results: [], q: request.query.q ?? '' }));
app.get('/items', { config: { rateLimit: limits.catalog } }, async () => ({ items: [1, 2, 3] }));
app.get('/items/:id', { config: { rateLimit: limits.catalog } }, async (request) => ({ id: request.params.id }));
app.post('/reports', { config: { rateLimit: limits.reports } }, async (_request, reply) => reply.code(202).send({ queued: true }));
app.get('/health', async () => ({ ok: true }));
app.addHook('onClose', async () => close());

const address = await app.listen({ port, host: '127.0.0.1' });
console.log(`fastify example listening on ${address}`);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => void app.close());
}
