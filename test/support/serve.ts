// Runs requests through supertest against a server listening on an ephemeral port of 127.0.0.1,
// then closes it and its connections.
import type { Server } from 'node:http';
import request, { type Response } from 'supertest';

export type Get = (path: string, method?: 'GET' | 'POST') => Promise<Response>;

/** Starts `server` (not listening yet); `run` sends requests with X-API-Key `k`. */
export async function serve(server: Server, run: (get: Get) => Promise<void>): Promise<void> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await run((path, method = 'GET') => request(server)[method === 'GET' ? 'get' : 'post'](path).set('x-api-key', 'k'));
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}
