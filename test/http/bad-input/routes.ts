// One limited route on its own path (so buckets never leak between tests), with a GET to it:
// through supertest, or byte for byte on the raw socket.
import { randomBytes } from 'node:crypto';
import { send, type RequestHeaders } from '../client';
import type { LimitOptions } from '../harness';
import type { SuiteApps } from '../suite-apps';
import { rawGet, type HeaderLine } from './raw';

export async function route(suite: SuiteApps, limit: LimitOptions) {
  const { app, path } = await suite.single(limit, {}, `/b${randomBytes(3).toString('hex')}`);
  return { app, path, get: (headers: RequestHeaders = {}) => send(app, path, headers) };
}

export async function rawRoute(suite: SuiteApps, limit: LimitOptions) {
  const { app, path } = await suite.single(limit, {}, `/b${randomBytes(3).toString('hex')}`);
  return { app, path, get: (...lines: HeaderLine[]) => rawGet(app, path, lines) };
}
