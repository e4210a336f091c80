// node-redis (the `redis` package): the app connects the client, then the store can use it.
import { createClient, createCluster } from 'redis';
import { RedisStore } from '@tokenbucket/core';

const client = createClient({ url: 'rediss://limiter:secret@redis.example.com:6380' });
client.on('error', (err) => console.error('redis', err)); // node-redis asks every app for one
await client.connect();
const store = new RedisStore({ client });

// Cluster:
const cluster = createCluster({
  rootNodes: [{ url: 'redis://10.0.0.1:6379' }, { url: 'redis://10.0.0.2:6379' }],
  defaults: { username: 'limiter', password: process.env.REDIS_PASSWORD },
});
cluster.on('error', (err) => console.error('redis cluster', err));
await cluster.connect();
const clusterStore = new RedisStore({ client: cluster });
