// A redis-server (or redis-sentinel) process of a test's own, to kill (SIGKILL), restart on the same port, or slow.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { freePort } from './net';

export interface RedisProcessOptions {
  /** More server arguments, e.g. `['--maxmemory-policy', 'allkeys-lru']`. */
  args?: string[];
  /**
   * Run `redis-sentinel` with this configuration (written to `sentinel.conf` in the process's own
   * directory: sentinels rewrite it) instead of redis-server.
   */
  sentinelConfig?: string;
  /** The port (default: a free one). */
  port?: number;
}

export class RedisProcess {
  private child: ChildProcess | undefined;
  /** The process's own directory: its data, and a Cluster node's nodes.conf, survive a restart. */
  readonly dir = mkdtempSync(join(tmpdir(), 'tokenbucket-faults-'));

  private constructor(
    readonly port: number,
    private readonly options: RedisProcessOptions,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** True while the process runs. */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts redis-server on a free loopback port (DEBUG enabled, no persistence), or a sentinel. */
  static async start(options: RedisProcessOptions = {}): Promise<RedisProcess> {
    const p = new RedisProcess(options.port ?? (await freePort()), options);
    try {
      await p.spawn();
    } catch (err) {
      await p.stop();
      throw err;
    }
    return p;
  }

  /** Starts it again on the same port and in the same directory, with no data. */
  async restart(): Promise<void> {
    await this.spawn();
  }

  /** Kills it with SIGKILL (no goodbye to clients) and waits until it is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.child = undefined;
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async spawn(): Promise<void> {
    const common = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir];
    let command = 'redis-server';
    let args = [...common, '--save', '', '--appendonly', 'no', '--enable-debug-command', 'yes', ...(this.options.args ?? [])];
    if (this.options.sentinelConfig !== undefined) {
      command = 'redis-sentinel';
      const config = join(this.dir, 'sentinel.conf');
      writeFileSync(config, this.options.sentinelConfig);
      args = [config, ...common, ...(this.options.args ?? [])];
    }
    const child = spawn(command, args, { stdio: 'ignore' });
    let spawnError: Error | undefined;
    child.once('error', (err) => {
      spawnError = err;
    });
    this.child = child;
    const probe = new Redis(this.port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on('error', () => {});
    try {
      for (let i = 0; i < 100; i++) {
        if (spawnError !== undefined) {
          throw new Error(
            `could not start ${command} (${spawnError.message}): these tests need it installed; on Debian, scripts/lib.sh ensure_redis_server installs redis-server and redis-sentinel`,
          );
        }
        if (child.exitCode !== null) throw new Error(`${command} exited with ${child.exitCode} on port ${this.port}`);
        try {
          await probe.connect();
          if ((await probe.ping()) === 'PONG') return;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
      throw new Error(`${command} on port ${this.port} did not answer`);
    } finally {
      if (probe.status !== 'end') probe.disconnect();
    }
  }
}
