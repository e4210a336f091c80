// Express ladder step 3: ours, as apps/express-tokenbucket.mjs but on a MemoryStore. Against step
// 2: our decision and its computed headers. Against ours on Redis with leases: the store.
import { MemoryStore } from '@tokenbucket/core';
import { rateLimit } from '@tokenbucket/express';
import express from 'express';
import { announce, BODY, HOST, PATHS, PORT } from '../apps/shared.mjs';

const { route, capacity, refillPerSecond } = PATHS.allowed;
const app = express();
app.get(route, rateLimit({ store: new MemoryStore(), capacity, refillPerSecond }), (_req, res) => {
  res.json(BODY);
});
const server = app.listen(PORT, HOST, () => announce(server));
