// @tokenbucket/core/store: the contract a store of one's own implements (Store), and the key
// layout RedisStore writes (`<prefix><policy>:{<caller id>}`), for a store that shares it or for
// reading RedisStore's keys in Redis.

export type { ConcurrencyPolicy, LockoutRule, SlotResult, Store, TakeResult } from './store/types.js';
export type { StoreStatusChange } from './diagnostics.js';
export { bucketKey, slotKey } from './store/types.js';
export { hashCallerKey } from './hash.js';
export type { Policy } from './policy.js';
