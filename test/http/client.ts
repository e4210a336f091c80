// Requests to a running app through supertest (real HTTP on its ephemeral port), and the reply as
// the suites read it.
import type { Agent } from 'node:http';
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
