// Requests to a running app through supertest (real HTTP on its ephemeral port), and the reply as
// the suites read it.
import { randomBytes } from 'node:crypto';
import { type Agent, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type { RunningApp } from './harness';

export interface Reply {
  status: number;
  /** Lower-case names, as Node reads them; undefined when the header is absent. */
  headers: Record<string, string | undefined>;
  /** The parsed JSON body, or the text when it is not JSON. */
  // biome-ignore lint/suspicious/noExplicitAny: whatever JSON the server sent; each test reads the fields it expects
  body: any;
}

export type RequestHeaders = Record<string, string>;

/**
 * One request. Without an `agent`, supertest opens a connection for it (superagent does not
 * pool); with a keep-alive agent, a burst of requests reuses a few.
 */
export async function send(
  app: RunningApp,
  path: string,
  headers: RequestHeaders = {},
  method: 'GET' | 'POST' | 'HEAD' | 'OPTIONS' = 'GET',
  agent?: Agent,
): Promise<Reply> {
  const client = request(app.server);
  const verbs = { GET: client.get, POST: client.post, HEAD: client.head, OPTIONS: client.options };
  const req = verbs[method].call(client, path).set(headers);
  if (agent !== undefined) req.agent(agent);
  const res = await req;
  const text: string = res.text ?? '';
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(res.headers as Record<string, string | string[]>)) {
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return { status: res.status, headers: out, body };
}

/** The X-API-Key header for `k`. */
export const key = (k: string): RequestHeaders => ({ 'x-api-key': k });

/** The statuses of `n` requests sent one after another. */
export async function statuses(app: RunningApp, path: string, headers: RequestHeaders, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await send(app, path, headers)).status);
  return out;
}

/** Polls `read` until it returns `want` (a refund or a release lands after the response is sent). */
export async function eventually<T>(read: () => Promise<T>, want: T, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await read();
  while (!Object.is(last, want) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    last = await read();
  }
  return last;
}

/**
 * Sends a GET whose connection `drop()` closes, before the response if the handler is still at
 * work. Tests wait until the limiter has taken its token (or slot) before they drop it: a fixed
 * delay would race the request on a busy machine.
 */
export function openRequest(app: RunningApp, path: string, headers: Record<string, string>): { drop(): void } {
  const { port } = app.server.address() as AddressInfo;
  const req = httpRequest({ host: '127.0.0.1', port, path, headers });
  req.on('error', () => {});
  req.end();
  return { drop: () => void req.destroy() };
}

/** A name no other test uses: `label-` and six hex digits. */
export const fresh = (label: string): string => `${label}-${randomBytes(3).toString('hex')}`;
