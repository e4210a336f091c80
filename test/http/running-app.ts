// Starts a harness's app on an ephemeral port of 127.0.0.1, once: supertest then sends every
// request of a test to that one server (given a server that is not listening, it would start
// and stop one per request).
import type { AddressInfo } from 'node:net';
import type { AdapterHarness, AppSpec, RunningApp } from './harness';

export async function startApp(harness: AdapterHarness, spec: AppSpec): Promise<RunningApp> {
  const built = await harness.build(spec);
  const { server } = built;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await built.close?.();
    throw err;
  }
  return {
    server,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await built.close?.();
    },
  };
}

/** `{ hostname, port }` of a running app, for a client that opens its own socket. */
export function addressOf(app: RunningApp): { hostname: string; port: number } {
  const { address, port } = app.server.address() as AddressInfo;
  return { hostname: address, port };
}
