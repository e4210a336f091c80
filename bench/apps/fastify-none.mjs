// Fastify 5 without a limiter: the baseline of the Fastify rows. Loads Fastify and nothing else.
import Fastify from 'fastify';
import { announce, BODY, HOST, PATHS, PORT } from './shared.mjs';

const app = Fastify();
for (const { route } of Object.values(PATHS)) {
  app.get(route, async () => BODY);
}
await app.listen({ port: PORT, host: HOST });
announce(app.server);
