// Fastify 5 without a limiter, answering GET /d as our limiter answers a denial (status, headers,
// problem body as constants): the baseline of the Fastify denied rows.
import Fastify from 'fastify';
import { announce, DENIAL, HOST, PATHS, PORT } from './shared.mjs';

const app = Fastify();
app.get(PATHS.denied.route, async (_request, reply) => {
  reply.code(DENIAL.status).headers(DENIAL.headers).type(DENIAL.contentType);
  return DENIAL.body;
});
await app.listen({ port: PORT, host: HOST });
announce(app.server);
