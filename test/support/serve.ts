// Runs requests against a server listening on 127.0.0.1, then closes it and its connections.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Get = (path: string, method?: string) => Promise<Response>;

/** `listen` starts the server on port 0 of 127.0.0.1; `run` sends requests with X-API-Key `k`. */
export async function serve(listen: () => Server, run: (get: Get) => Promise<void>): Promise<void> {
  const server = listen();
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    await run((path, method = 'GET') => fetch(url + path, { method, headers: { 'x-api-key': 'k' } }));
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}
