// Bucket store on Redis (standalone or Cluster): one Lua script call per take, Redis's clock.
import type { Cluster, Redis } from 'ioredis';
import { invalidOption, TokenBucketError } from '../errors.js';
import type { Policy } from '../options.js';
import { bucketKey, type Store } from '../store.js';
import { TAKE_SCRIPT } from './take-script.js';

export interface RedisStoreOptions {
  /**
   * An ioredis `Redis` or `Cluster` client. The store registers its script on it with
   * `defineCommand`; the client's `keyPrefix` and `enableAutoPipelining` apply as usual.
   */
  client: Redis | Cluster;
  /**
   * Prepended to every bucket key: `<prefix><policy name>:{<caller id>}`. Must not contain `{`
   * or `}`, which would change the Cluster hash tag.
   * @default 'tb:'
   */
  prefix?: string;
}

/** The script's command name; versioned so an upgraded script never runs under an old name. */
const COMMAND = 'tokenbucketTakeV1';

/** The client as this store uses it: typed here, without augmenting ioredis's own types. */
type ClientWithTake = (Redis | Cluster) & {
  [COMMAND](numKeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>;
};

/**
 * Buckets in Redis, shared by every process that uses the same server and prefix. The script
 * runs with EVALSHA, and ioredis resends it with EVAL when the server answers NOSCRIPT (after a
 * restart, a failover or SCRIPT FLUSH).
 */
export class RedisStore implements Store {
  readonly prefix: string;
  private readonly client: ClientWithTake;

  constructor(options: RedisStoreOptions) {
    if (typeof options !== 'object' || options === null) {
      invalidOption('options', options, 'an object { client, prefix }');
    }
    const { client, prefix = 'tb:' } = options;
    if (typeof client !== 'object' || client === null || typeof (client as Redis).defineCommand !== 'function') {
      invalidOption('client', client, 'an ioredis Redis or Cluster client');
    }
    if (typeof prefix !== 'string' || /[{}]/.test(prefix) || prefix.length > 256) {
      invalidOption('prefix', prefix, 'a string of at most 256 characters without { or }');
    }
    this.prefix = prefix;
    this.client = client as ClientWithTake;
    if (typeof this.client[COMMAND] !== 'function') {
      client.defineCommand(COMMAND, { lua: TAKE_SCRIPT });
    }
  }

  async take(callerId: string, policies: readonly Policy[], cost: number): Promise<number[]> {
    const n = policies.length;
    const args: (string | number)[] = new Array(1 + 3 * n);
    for (let i = 0; i < n; i++) {
      const p = policies[i]!;
      args[i] = bucketKey(this.prefix, p.name, callerId);
      args[n + 1 + 2 * i] = p.capacity;
      args[n + 2 + 2 * i] = p.refillPerSecond;
    }
    args[n] = cost;
    const reply = await this.client[COMMAND](n, ...args);
    return parseLevels(reply, n);
  }

  async reset(callerId: string, policies: readonly Policy[]): Promise<void> {
    await this.client.del(...policies.map((p) => bucketKey(this.prefix, p.name, callerId)));
  }
}

function parseLevels(reply: unknown, n: number): number[] {
  if (Array.isArray(reply) && reply.length === n) {
    const levels = reply.map(Number);
    if (levels.every(Number.isFinite)) return levels;
  }
  throw new TokenBucketError('STORE_REPLY', `unexpected reply from the take script: ${JSON.stringify(reply)}`);
}
