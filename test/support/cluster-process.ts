// A Redis Cluster of a test's own: real redis-server processes with cluster-enabled, to kill and restart.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { freePorts } from './net';
import { RedisProcess } from './redis-process';

const run = promisify(execFile);

/**
 * Masters without replicas, `cluster-require-full-coverage no` (the masters that are up keep
 * serving their slots while another is down) and a short node time-out. Each node keeps its
 * nodes.conf in its own directory, so a node restarted on its port rejoins with its slots.
 */
export class ClusterProcesses {
  private constructor(readonly nodes: RedisProcess[]) {}

  static async start(masters = 3): Promise<ClusterProcesses> {
    const ports = await freePorts(2 * masters);
    const nodes: RedisProcess[] = [];
    const cluster = new ClusterProcesses(nodes);
    try {
      for (let i = 0; i < masters; i++) {
        nodes.push(
          await RedisProcess.start({
            port: ports[i]!,
            args: [
              '--cluster-enabled',
              'yes',
              '--cluster-port',
              String(ports[masters + i]),
              '--cluster-config-file',
              'nodes.conf',
              '--cluster-node-timeout',
              '1000',
              '--cluster-require-full-coverage',
              'no',
            ],
          }),
        );
      }
      await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => n.address), '--cluster-replicas', '0', '--cluster-yes']);
      await cluster.waitUntilOk();
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /** Seed nodes for an ioredis Cluster. */
  get seeds(): { host: string; port: number }[] {
    return this.nodes.map((n) => ({ host: '127.0.0.1', port: n.port }));
  }

  /** Each master (`host:port`) and the slot ranges it serves, inclusive, as CLUSTER SLOTS says. */
  async slots(): Promise<Map<string, [number, number][]>> {
    const up = this.nodes.find((n) => n.running);
    if (up === undefined) throw new Error('no cluster node is running');
    const client = new Redis(up.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
    try {
      const out = new Map<string, [number, number][]>();
      for (const [start, end, primary] of await client.cluster('SLOTS')) {
        if (!primary) throw new Error(`CLUSTER SLOTS: slots ${start}-${end} have no master`);
        const address = `${primary[0]}:${primary[1]}`;
        out.set(address, [...(out.get(address) ?? []), [start, end]]);
      }
      return out;
    } finally {
      client.disconnect();
    }
  }

  node(address: string): RedisProcess {
    const node = this.nodes.find((n) => n.address === address);
    if (node === undefined) throw new Error(`no cluster node at ${address}`);
    return node;
  }

  /** Waits until every running node says cluster_state:ok and knows every node. */
  async waitUntilOk(timeoutMs = 20_000): Promise<void> {
    const until = performance.now() + timeoutMs;
    for (const node of this.nodes.filter((n) => n.running)) {
      const client = new Redis(node.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
      try {
        for (;;) {
          const info = (await client.cluster('INFO')) as string;
          if (/^cluster_state:ok/m.test(info) && new RegExp(`^cluster_known_nodes:${this.nodes.length}\\b`, 'm').test(info)) break;
          if (performance.now() > until) throw new Error(`cluster node ${node.address} is not ok:\n${info}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      } finally {
        client.disconnect();
      }
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }
}
