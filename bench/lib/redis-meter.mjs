// What Redis did during a run: commands (INFO commandstats) and CPU (INFO cpu), summed over every
// node of the target (one Redis, or each master of a Cluster), read through admin connections.
import { Redis } from 'ioredis';

/** Commands the bench itself sends (or ioredis on connect); never counted against a limiter. */
const ADMIN_COMMANDS = /^(info|config|memory|scan|flushall|ping|client|hello|select|dbsize|command|cluster|readonly)/;

export class RedisMeter {
  /** @param {string[]} urls one `redis://host:port` per node */
  constructor(urls) {
    this.nodes = urls.map((url) => new Redis(url));
  }

  /** The first node's `INFO server` fields (version). */
  async version() {
    return /redis_version:(\S+)/.exec(await this.nodes[0].info('server'))[1];
  }

  flushall() {
    return Promise.all(this.nodes.map((n) => n.flushall()));
  }

  /** Resets the counters, runs `fn`, and returns its result with Redis's commands and CPU seconds for it. */
  async measure(fn) {
    await Promise.all(this.nodes.map((n) => n.config('RESETSTAT')));
    const cpu0 = await this.cpuSeconds();
    const result = await fn();
    const redisCpuSeconds = (await this.cpuSeconds()) - cpu0;
    return { result, commands: await this.commands(), redisCpuSeconds };
  }

  async commands() {
    const calls = {};
    for (const text of await Promise.all(this.nodes.map((n) => n.info('commandstats')))) {
      for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
        if (!ADMIN_COMMANDS.test(m[1])) calls[m[1]] = (calls[m[1]] ?? 0) + Number(m[2]);
      }
    }
    return calls;
  }

  async cpuSeconds() {
    let total = 0;
    for (const text of await Promise.all(this.nodes.map((n) => n.info('cpu')))) {
      const get = (name) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(text)[1]);
      total += get('used_cpu_user') + get('used_cpu_sys');
    }
    return total;
  }

  /** Every key on every node (SCAN), for the memory table. */
  async keys() {
    const all = [];
    for (const node of this.nodes) {
      let cursor = '0';
      do {
        const [next, batch] = await node.scan(cursor, 'COUNT', 1000);
        cursor = next;
        for (const key of batch) all.push({ node, key });
      } while (cursor !== '0');
    }
    return all;
  }

  disconnect() {
    for (const n of this.nodes) n.disconnect();
  }
}

export const sumValues = (obj) => Object.values(obj).reduce((a, b) => a + b, 0);
export const perOp = (commands, n) => Object.fromEntries(Object.entries(commands).map(([k, v]) => [k, v / n]));
