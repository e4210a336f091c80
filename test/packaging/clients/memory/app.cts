// A CommonJS TypeScript app with no Redis client installed at all: MemoryStore only.
import core = require('@tokenbucket/core');

export const limiter = core.createLimiter({ store: new core.MemoryStore(), capacity: 1, refillPerSecond: 1 });
export const remaining: Promise<number> = limiter.take('key').then((d) => d.remaining);
