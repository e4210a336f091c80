// A redis-server of a script's own (nothing else in it) on a free loopback port, with an admin
// client and a client for the store, for the measuring scripts under test/memory and
// test/reliability. `stop()` disconnects both, kills the server and removes its directory.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

/** Starts the server; resolves once it answers PING. */
export async function startThrowawayRedis(label) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), `tokenbucket-${label}-`));
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const admin = new Redis(port, '127.0.0.1', { retryStrategy: (n) => (n < 50 ? 50 : null) });
  admin.on('error', () => {});
  const client = new Redis(port, '127.0.0.1');
  client.on('error', () => {});
  const stop = async () => {
    client.disconnect();
    admin.disconnect();
    server.kill('SIGKILL');
    await new Promise((resolve) => (server.exitCode !== null ? resolve() : server.once('exit', resolve)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await admin.ping();
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, admin, client, stop };
}
