// docs/guides/identity.md states the caller id's formula; this computes it as written there and
// checks it against the ids the limiter publishes, for a key, an IPv4 address, an IPv6 address
// grouped by ipv6Subnet, and over HTTP (an API key and a request without one).
import { createHash } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import express from 'express';
import request from 'supertest';
import { CHANNELS, createLimiter, type DecisionEvent, MemoryStore } from '@tokenbucket/core';
import { rateLimit } from '@tokenbucket/express';

/** The formula as the page writes it. */
const hash = (text: string): string => createHash('sha256').update(text).digest('base64url').slice(0, 22);

const seen: string[] = [];
const listener = (message: unknown): void => void seen.push((message as DecisionEvent).callerId);
const store = new MemoryStore();
beforeAll(() => subscribe(CHANNELS.decision, listener));
afterAll(() => {
  unsubscribe(CHANNELS.decision, listener);
  store.close();
});
beforeEach(() => void seen.splice(0));

test('the page states the formula this test computes', () => {
  const page = readFileSync(join(__dirname, '..', '..', 'docs', 'guides', 'identity.md'), 'utf8');
  expect(page).toContain("`createHash('sha256').update(key).digest('base64url').slice(0, 22)`");
  expect(page).toContain('(`2001:db8:aa::/56`)');
});

test('a key, an IPv4 address and a grouped IPv6 address, through limiter.take()', async () => {
  const limiter = createLimiter({ store, name: 'identity', capacity: 10, refillPerSecond: 1 });
  await limiter.take('sk_live_123');
  await limiter.take({ ip: '203.0.113.7' });
  await limiter.take({ ip: '::ffff:203.0.113.7' });
  await limiter.take({ ip: '2001:db8:aa:bb::1' });
  await limiter.take({ ip: '2001:db8:aa:bb::1', ipv6Subnet: false });
  expect(seen).toEqual([
    hash('sk_live_123'),
    `ip.${hash('203.0.113.7')}`,
    `ip.${hash('203.0.113.7')}`,
    `ip.${hash('2001:db8:aa::/56')}`,
    `ip.${hash('2001:db8:aa:bb::1')}`,
  ]);
});

test('over HTTP: the API key, and the client IP of a request without one', async () => {
  const app = express();
  app.get('/x', rateLimit({ store, name: 'identity-http', capacity: 10, refillPerSecond: 1 }), (_req, res) => {
    res.json({ ok: true });
  });
  await request(app).get('/x').set('X-API-Key', 'sk_live_123').expect(200);
  await request(app).get('/x').set('Authorization', 'Bearer sk_live_123').expect(200);
  await request(app).get('/x').expect(200);
  const ip = seen[2]!;
  expect(seen.slice(0, 2)).toEqual([hash('sk_live_123'), hash('sk_live_123')]);
  // supertest connects over loopback: IPv4, or IPv6's ::1 (a /56 of its own).
  expect([`ip.${hash('127.0.0.1')}`, `ip.${hash('::/56')}`]).toContain(ip);
});
