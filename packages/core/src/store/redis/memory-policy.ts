// The check that Redis will not evict buckets: only `maxmemory-policy noeviction` keeps them.
import { emitTokenBucketWarning } from '../../errors.js';
import type { RedisConnection } from './connection.js';

/** Clients being watched, and clients already warned about: several stores on one client check and warn once. */
const watched = new WeakSet<object>();
const warned = new WeakSet<object>();

/**
 * Each time the client is ready, reads every master's `maxmemory-policy`, and warns once per
 * client (a TokenBucketWarning) when one lets Redis evict keys or cannot be read. Every policy but
 * `noeviction` can evict a bucket under memory pressure (bucket keys carry a TTL, so the
 * `volatile-*` policies pick them first), and an evicted bucket comes back full: its caller gets
 * its whole burst again. Under LRU the denial cache makes it worse: the keys of denied callers,
 * answered in this process without Redis, look idle to Redis and go first.
 */
export function checkMemoryPolicy(client: object, connection: RedisConnection): void {
  if (watched.has(client)) return;
  watched.add(client);
  connection.onReady(() => {
    if (warned.has(client)) return;
    connection.memoryPolicies().then(
      (report) => {
        if (warned.has(client)) return;
        const evicting = report.filter((r) => r.policy !== undefined && r.policy !== 'noeviction');
        const unread = report.filter((r) => r.policy === undefined);
        if (evicting.length > 0) {
          warned.add(client);
          const where = evicting.map((r) => `${r.node} has maxmemory-policy ${r.policy}`).join(', ');
          emitTokenBucketWarning(
            'TB_WARN_MEMORY_POLICY',
            `tokenbucket: ${where}: Redis may evict rate-limit buckets under memory pressure, and an evicted bucket comes back full (its caller gets a whole new burst). Set maxmemory-policy noeviction on the Redis the limiter uses, or give the limiter a Redis of its own.`,
          );
        } else if (unread.length > 0 && connection.unavailable() === undefined) {
          // (A read cut short because the client quit or lost its connection says nothing about the
          // policy: nothing is reported, and the next 'ready' reads it again.)
          warned.add(client);
          const why = unread.map((r) => `${r.node}: ${r.error instanceof Error ? r.error.message : String(r.error)}`).join('; ');
          emitTokenBucketWarning(
            'TB_WARN_MEMORY_POLICY_UNREAD',
            `tokenbucket: could not read maxmemory-policy (${why}), so the limiter cannot tell whether Redis may evict its buckets (an evicted bucket comes back full). Make sure it is noeviction, then pass checkMemoryPolicy: false to RedisStore to skip this check.`,
          );
        }
      },
      () => {},
    );
  });
}
