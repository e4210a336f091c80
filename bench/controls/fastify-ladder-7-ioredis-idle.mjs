// Ladder step 7: step 6 (ours on a MemoryStore) with an ioredis client connected beside it, used
// by nothing. Isolates what loading ioredis and holding its connection costs a request.
import { Cluster, Redis } from 'ioredis';
import { connectRedis } from '../apps/shared.mjs';

await connectRedis({ Redis, Cluster });
// Step 6's app itself, started once the client is connected.
await import('./fastify-ladder-6-ours-memory.mjs');
