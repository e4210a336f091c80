// Every TokenBucketWarning, with the code a user can filter on (`process.on('warning', (w) => w.code)`).

/**
 * The codes of tokenbucket's warnings, one prefix (`TB_`). Each names one cause; the message says
 * what was seen and what to do about it.
 */
export type TokenBucketWarningCode =
  /** A master's `maxmemory-policy` lets Redis evict buckets (an evicted bucket comes back full). */
  | 'TB_MEMORY_POLICY'
  /** `maxmemory-policy` could not be read (an ACL without CONFIG). */
  | 'TB_MEMORY_POLICY_UNREAD'
  /** The ACL user may not run what a take needs: the keys under the prefix, EVALSHA/EVAL, or TIME. */
  | 'TB_REDIS_NOPERM'
  /** The store's client is connected to a read-only replica. */
  | 'TB_REDIS_READONLY'
  /** Redis is out of memory (`maxmemory` reached under `noeviction`): allowed takes cannot write. */
  | 'TB_REDIS_OOM'
  /** Redis refused the client's credentials (WRONGPASS, NOAUTH). */
  | 'TB_REDIS_AUTH'
  /** The client was never connected (node-redis: `connect()` not called or not awaited). */
  | 'TB_REDIS_NOT_CONNECTED'
  /** A connection answered nothing while a fresh one to the same Redis answered: it was replaced. */
  | 'TB_REDIS_DEAD_CONNECTION'
  /** A user hook (onDecision, onError, onStoreStatus...) threw or rejected. */
  | 'TB_HOOK_FAILED'
  /** A store status listener threw. */
  | 'TB_LISTENER_FAILED'
  /** A metrics subscriber failed. */
  | 'TB_METRICS_FAILED'
  /** More distinct label values than `maxLabelValues`. */
  | 'TB_LABEL_VALUES'
  /**
   * @tokenbucket/fastify: routes meant to be limited were registered before the plugin, whose
   * onRoute hook sees only later routes, so they are not limited.
   */
  | 'TB_WARN_FASTIFY_ROUTE_BEFORE_PLUGIN';

/** Emits a TokenBucketWarning with its code (`warning.name === 'TokenBucketWarning'`, `warning.code`). */
export function emitTokenBucketWarning(code: TokenBucketWarningCode, message: string): void {
  process.emitWarning(message, { type: 'TokenBucketWarning', code });
}

/**
 * Says each cause once: `emit` warns when `cause` differs from the last cause it warned about (a
 * store that keeps failing the same way says so once; a new cause is said again).
 */
export class WarnOnChange {
  private last: string | undefined;

  emit(cause: string, code: TokenBucketWarningCode, message: string): boolean {
    if (cause === this.last) return false;
    this.last = cause;
    emitTokenBucketWarning(code, message);
    return true;
  }
}
