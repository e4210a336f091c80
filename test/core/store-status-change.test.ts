// A change of a store's availability is one StoreStatusChange wherever it is heard: by
// `onStoreStatus`, by a listener given to the store's `subscribe`, and on the
// tokenbucket:store:status channel, each with the store's name. On a killed redis-server of its own.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import Redis from 'ioredis';
import { CHANNELS, RedisStore, type StoreStatusChange } from '@tokenbucket/core';
import { newResponse, plainLimiter } from '../support/plain-adapter';
import { RedisProcess } from '../support/redis-process';

let server: RedisProcess;
let client: Redis;
const published: unknown[] = [];
const onChannel = (message: unknown) => void published.push(message);

beforeAll(async () => {
  server = await RedisProcess.start();
  client = new Redis(server.url, { maxRetriesPerRequest: 0, retryStrategy: () => 50 });
  client.on('error', () => {});
  subscribe(CHANNELS.storeStatus, onChannel);
});
afterAll(async () => {
  unsubscribe(CHANNELS.storeStatus, onChannel);
  client.disconnect();
  await server.stop();
});

test("the callback, the store's listeners and the channel get the same change, naming the store", async () => {
  const store = new RedisStore({ client, name: 'status-change', breaker: { failureThreshold: 1, cooldownMs: 60_000 }, checkMemoryPolicy: false });
  const heard: StoreStatusChange[] = [];
  const listened: StoreStatusChange[] = [];
  store.subscribe((change) => void listened.push(change));
  const limiter = plainLimiter({ store, capacity: 5, refillPerSecond: 1, storeFailure: 'allow', onStoreStatus: (change) => void heard.push(change) });
  const take = () => limiter.handle({ headers: { 'x-api-key': 'k' } }, newResponse(), 'GET /');

  expect(await take()).toBe(true);
  expect(heard).toEqual([]);
  await server.kill();
  expect(await take()).toBe(true); // storeFailure: 'allow'

  expect(heard).toEqual([{ store: 'status-change', node: undefined, status: 'down', error: expect.any(Error) }]);
  expect(Object.keys(heard[0]!).sort()).toEqual(['error', 'node', 'status', 'store']);
  expect(listened).toEqual(heard);
  expect(published.filter((m) => (m as StoreStatusChange).store === 'status-change')).toEqual(heard);
  // One object, not three copies of one shape.
  expect(listened[0]).toBe(heard[0]);
});
