// What RedisStore needs of an ioredis client (Redis or Cluster), typed here without augmenting ioredis.
import type { Cluster, Redis } from 'ioredis';
import { TAKE_SCRIPT } from './script.js';

/** An ioredis `Redis` or `Cluster` client. */
export type RedisClient = Redis | Cluster;

/** The client with the script's commands, as this package defines them on it. */
type ClientWithCommands = RedisClient & Record<string, (...keysAndArgs: (string | number)[]) => Promise<unknown>>;

/** Whether `value` looks like an ioredis client this store can define its script on. */
export function isRedisClient(value: unknown): value is RedisClient {
  return typeof value === 'object' && value !== null && typeof (value as Redis).defineCommand === 'function';
}

export function isCluster(client: RedisClient): boolean {
  return (client as { isCluster?: boolean }).isCluster === true;
}

/**
 * Defines the take script on the client under `name` (once per client: clients are shared by
 * stores), with `numberOfKeys` when the key count is fixed, and returns the command.
 */
export function defineScript(
  client: RedisClient,
  name: string,
  numberOfKeys?: number,
): (...keysAndArgs: (string | number)[]) => Promise<unknown> {
  const c = client as ClientWithCommands;
  if (typeof c[name] !== 'function') {
    c.defineCommand(name, numberOfKeys === undefined ? { lua: TAKE_SCRIPT } : { lua: TAKE_SCRIPT, numberOfKeys });
  }
  return c[name]!.bind(c);
}

/**
 * Sends `command` outside ioredis auto-pipelining, by adding it to the client's
 * `autoPipeliningIgnoredCommands` (a new array: the caller's own is left as it was). A batched take
 * is already one call for a whole turn of the event loop: auto-pipelining would only hold it to the
 * next tick and queue it behind the turn's other commands.
 */
export function bypassAutoPipelining(client: RedisClient, command: string): void {
  const options = (client as { options?: { autoPipeliningIgnoredCommands?: unknown } }).options;
  if (typeof options !== 'object' || options === null) return;
  const ignored = Array.isArray(options.autoPipeliningIgnoredCommands) ? (options.autoPipeliningIgnoredCommands as string[]) : [];
  if (!ignored.includes(command)) options.autoPipeliningIgnoredCommands = [...ignored, command];
}

/**
 * The client's status when it cannot take a command now (ioredis reconnecting, closing or
 * ended), else undefined. A command sent then would sit in the offline queue and be replayed,
 * debiting tokens, long after its request was answered.
 */
export function unavailableStatus(client: RedisClient): string | undefined {
  const status = client.status;
  return status === 'reconnecting' || status === 'end' || status === 'close' || status === 'disconnecting' ? status : undefined;
}
