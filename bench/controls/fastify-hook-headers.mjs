// Fastify 5 without a limiter, with what any limiter that writes rate-limit headers adds to a
// request at the least: an onRequest hook on the route that sets the two `RateLimit-Policy` and
// `RateLimit` fields, as constants. Run beside `apps/fastify-none.mjs` and ours (bench/targets.mjs
// does, in the fastify-allowed scenario) to see how much of our cost is the framework's hook and
// header writing, not our decision.
import Fastify from 'fastify';
import { announce, BODY, constantFieldsHook, HOST, PATHS, PORT } from '../apps/shared.mjs';

const app = Fastify();
app.get(PATHS.allowed.route, { onRequest: constantFieldsHook }, async () => BODY);
await app.listen({ port: PORT, host: HOST });
announce(app.server);
