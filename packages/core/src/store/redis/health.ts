// What a store's failures say about its Redis: a coded warning per cause, and a dead connection replaced.
import { redisErrorCode } from '../../diagnostics.js';
import { TokenBucketError } from '../../errors.js';
import { emitTokenBucketWarning, WarnOnChange } from '../../errors.js';
import type { RedisConnection } from './connection.js';

/** Redis errors that answer a take but refuse its write: the store is reachable and cannot work. */
const REFUSED_WRITE = new Set(['OOM', 'READONLY', 'NOPERM']);

/** Redis 7's report of a script's command refused by the ACL, which does not name the command. */
const SCRIPT_COMMAND_REFUSED = /can't run this command/;

/** Ms a probe connection gets to connect and answer PING. */
const PROBE_MS = 1000;
/** Ms the old connection gets, after the probe's PONG, to show it was only waiting on a busy Redis. */
const AFTER_PROBE_MS = 200;

/**
 * Watches one store's failed calls. A Redis error that means the store cannot work as configured
 * (NOPERM, READONLY, OOM, WRONGPASS/NOAUTH, a client never connected) is said once as a coded
 * TokenBucketWarning naming the cause and the fix, and again only when the cause changes.
 *
 * A connection that answers nothing while the client believes it is up (packets dropped on the
 * way, no reset: the kernel may take a quarter of an hour to give up on it) is found here: when a
 * node's calls have gone unanswered for `deadAfterMs` (5 budgets, at least 1 s), a new connection
 * with the client's options sends PING. If Redis answers it, Redis is fine and the old connection
 * is not: the store drops it and the client reconnects (ioredis: as after any lost connection,
 * resending its unanswered commands; node-redis: closed and connected again). If the new one gets
 * no answer either, Redis itself is busy or away, and nothing is done.
 */
export class StoreHealth {
  private readonly warnings = new WarnOnChange();
  /** Per node: when the oldest call still unanswered since the last reply was sent. */
  private readonly unanswered = new Map<string | undefined, number>();
  private readonly probing = new Set<string | undefined>();
  private readonly deadAfterMs: number;
  /** When the store last asked a fresh connection why the client is not ready. */
  private diagnosedAt = -Infinity;
  /** What asking TIME said, to name what a script's NOPERM refused ('asking' meanwhile). */
  private timeVerdict: string | undefined;

  constructor(
    private readonly store: string,
    private readonly prefix: string,
    private readonly connection: RedisConnection,
    timeoutMs: number,
  ) {
    this.deadAfterMs = Math.max(1000, 5 * timeoutMs);
  }

  /** A call got a reply. */
  answered(node: string | undefined): void {
    this.unanswered.delete(node);
  }

  /** A call failed; `sent` whether it reached the client. True when Redis refused to write. */
  failed(node: string | undefined, error: unknown, sent: boolean, sentAt: number): boolean {
    const code = redisErrorCode(error);
    if (code !== undefined) {
      this.unanswered.delete(node);
      this.explain(node, code, (error as Error).message);
      return REFUSED_WRITE.has(code);
    }
    if (!(error instanceof TokenBucketError)) return false;
    if (error.code === 'TB_ERR_STORE_TIMEOUT' && sent) this.silent(node, sentAt);
    else if (error.code === 'TB_ERR_STORE_UNAVAILABLE') this.notReady(node);
    return false;
  }

  private explain(node: string | undefined, code: string, reply: string): void {
    let message = reply;
    const where = node === undefined ? 'Redis' : `Redis node ${node}`;
    const said = `Redis said: ${message}`;
    const until = 'Until then every take that needs it is answered by storeFailure (by default, the per-process fallback).';
    switch (code) {
      case 'OOM':
        this.warn(
          code,
          'TB_WARN_REDIS_OOM',
          `${where} is out of memory (maxmemory reached): takes that would debit a bucket fail. Give Redis more memory (maxmemory), or move other data off it; keep maxmemory-policy noeviction. ${until} ${said}`,
        );
        return;
      case 'READONLY':
        this.warn(
          code,
          'TB_WARN_REDIS_READONLY',
          `the store's client is connected to a read-only replica (${where}): no take can debit a bucket. Point the client at the master (with Sentinel, the group's name and role master). ${until} ${said}`,
        );
        return;
      case 'NOPERM':
        if (SCRIPT_COMMAND_REFUSED.test(message) && this.connection.probe !== undefined) {
          // Redis does not say which of the script's commands the ACL refused: ask TIME once, on
          // a connection of the store's own, as the same user.
          if (this.timeVerdict === undefined) {
            this.timeVerdict = 'asking';
            this.connection.probe(node, PROBE_MS, 'TIME').then(
              (reply) => {
                this.timeVerdict = redisErrorCode(reply) === 'NOPERM' ? ` (TIME refused: ${(reply as Error).message})` : ' (TIME allowed)';
                this.explain(node, code, message);
              },
              () => {},
            );
          }
          if (this.timeVerdict === 'asking') return;
          message += this.timeVerdict;
        }
        this.warn(
          `${code} ${message}`,
          'TB_WARN_REDIS_NOPERM',
          `the Redis ACL user may not do what a take needs (NOPERM: ${noPermWhat(message, this.prefix)}). ${said.replace(/\.*$/, '.')} The store needs the keys under its prefix and EVALSHA, EVAL, DEL, GET, SET and TIME: ACL SETUSER <user> ~${this.prefix}* +evalsha +eval +del +get +set +time (and +ping +info for ioredis, +config|get for the maxmemory-policy check). ${until}`,
        );
        return;
      case 'WRONGPASS':
      case 'NOAUTH':
        this.warn(
          code,
          'TB_WARN_REDIS_AUTH',
          `${where} refused the client's credentials (${code}): the client cannot connect. Check the client's username and password. ${until} ${said}`,
        );
        return;
    }
  }

  /** The client is not ready: say why once, if a fresh connection can tell (refused credentials), or if it was never connected. */
  private notReady(node: string | undefined): void {
    if (!this.connection.everReady && this.connection.pending() === undefined && this.connection.unavailable() === 'closed') {
      this.warn(
        'not connected',
        'TB_WARN_REDIS_NOT_CONNECTED',
        'the node-redis client given to RedisStore is not connected: call `await client.connect()` before the first request (node-redis does not connect by itself). Until then every take is answered by storeFailure.',
      );
      return;
    }
    const probe = this.connection.probe;
    const now = performance.now();
    if (probe === undefined || now - this.diagnosedAt < 5000) return;
    this.diagnosedAt = now;
    probe.call(this.connection, node, PROBE_MS).then(
      (answer) => {
        const code = redisErrorCode(answer);
        if (code === 'WRONGPASS' || code === 'NOAUTH') this.explain(node, code, (answer as Error).message);
      },
      () => {},
    );
  }

  /** A sent call timed out: if none has been answered for long, ask a fresh connection. */
  private silent(node: string | undefined, sentAt: number): void {
    const since = this.unanswered.get(node) ?? sentAt;
    this.unanswered.set(node, since);
    const probe = this.connection.probe;
    const replace = this.connection.replace;
    if (probe === undefined || replace === undefined || this.probing.has(node) || performance.now() - since < this.deadAfterMs) return;
    if (this.connection.unavailable() !== undefined || this.connection.pending() !== undefined) return;
    this.probing.add(node);
    probe.call(this.connection, node, PROBE_MS).then(
      (answer) => {
        if (answer !== 'PONG' || this.unanswered.get(node) !== since) {
          this.probing.delete(node);
          return;
        }
        // A Redis that was busy (a long script, DEBUG SLEEP) answers the probe and the old
        // connection's calls in the same moment, and the PONG can be read first: the old
        // connection is dead only if it still has answered nothing a moment later.
        setTimeout(() => {
          this.probing.delete(node);
          if (this.unanswered.get(node) !== since) return;
          const silentMs = Math.round(performance.now() - since);
          this.unanswered.delete(node);
          replace.call(this.connection, node);
          emitTokenBucketWarning(
            'TB_WARN_REDIS_DEAD_CONNECTION',
            `tokenbucket: store "${this.store}": the connection to ${node === undefined ? 'Redis' : `Redis node ${node}`} answered nothing for ${silentMs} ms while a new connection to it answered at once (packets lost without a reset): the store dropped it and the client reconnects. Give the client a socket timeout (ioredis: socketTimeout; node-redis 5 and 6: socket.socketTimeout) so that it finds out by itself.`,
          );
        }, AFTER_PROBE_MS).unref();
      },
      () => this.probing.delete(node),
    );
  }

  private warn(cause: string, code: Parameters<typeof emitTokenBucketWarning>[0], message: string): void {
    this.warnings.emit(cause, code, `tokenbucket: store "${this.store}": ${message}`);
  }
}

/** What a NOPERM refused, in the user's terms. */
function noPermWhat(message: string, prefix: string): string {
  const command = /'([\w|]+)' command/.exec(message)?.[1];
  if (command !== undefined) return `the ${command.toUpperCase()} command`;
  if (/TIME refused/.test(message)) return 'the TIME command';
  if (/TIME allowed/.test(message)) return 'a command the take script runs on its keys: GET or SET';
  if (/can't run this command/.test(message)) return 'a command the take script runs: TIME, GET or SET (Redis does not say which)';
  if (/key/.test(message)) return `the keys under the prefix "${prefix}"`;
  return 'see below';
}
