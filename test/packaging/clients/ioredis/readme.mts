// ioredis: TLS, ACL users and Cluster are options of the client (Sentinel: see below).
import { Cluster, Redis } from 'ioredis';

// Managed Redis with TLS and an ACL user (e.g. a cloud provider's endpoint):
new Redis({ host: 'redis.example.com', port: 6380, username: 'limiter', password: process.env.REDIS_PASSWORD, tls: {} });
new Redis('rediss://limiter:secret@redis.example.com:6380'); // the same as a URL

// Cluster: one caller's buckets share a hash tag, so a multi-policy take is one script call.
new Cluster(
  [
    { host: '10.0.0.1', port: 6379 },
    { host: '10.0.0.2', port: 6379 },
  ],
  { redisOptions: { username: 'limiter', password: process.env.REDIS_PASSWORD, tls: {} } },
);
