// login.test.ts: only failed logins count, per account and per client address.
import express from 'express';
import request from 'supertest';
import { MemoryStore } from '@tokenbucket/core';
import { rateLimit } from '@tokenbucket/express';

const store = new MemoryStore(); // a RedisStore in production
const failedLogins = { store, skipSuccessfulRequests: true, refillPerSecond: 1 / 60 } as const;

const app = express();
app.use(express.json());
app.post(
  '/login',
  // 20 failed logins per client address (no key: the IP), one more a minute.
  rateLimit({ ...failedLogins, name: 'login-ip', capacity: 20, key: () => undefined }),
  // 5 failed logins per account, one more a minute.
  rateLimit({ ...failedLogins, name: 'login-account', capacity: 5, key: (req) => req.body?.user, missingKey: 'reject' }),
  (req, res) => {
    if (req.body?.password === 'right') res.json({ ok: true });
    else res.status(401).json({ error: 'wrong user or password' });
  },
);

describe('POST /login', () => {
  afterAll(() => store.close());
  const login = (user: string, password: string) => request(app).post('/login').send({ user, password });

  test('successes never count; five failures close the account, not the others', async () => {
    for (let i = 0; i < 10; i++) await login('alice', 'right').expect(200);
    for (let i = 0; i < 5; i++) await login('alice', 'wrong').expect(401);
    const res = await login('alice', 'right').expect(429);
    expect(res.body.policy).toBe('login-account');
    await login('bob', 'right').expect(200);
  });
});
