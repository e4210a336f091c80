// Every error tokenbucket throws and every warning it emits, each with its code; and the one way
// user code (callbacks, listeners, metrics subscribers) is called without letting it break us.
// docs/reference/errors.md has a section per code (test/core/error-codes.test.ts keeps it whole).

/**
 * The codes of the errors tokenbucket throws, one prefix (`TB_ERR_`): match on `error.code`, never
 * on the message text. Store errors share the metrics `code` label with the Redis client's own
 * (`ECONNREFUSED`, `OOM`...): the prefix tells ours apart.
 */
export const ERROR_CODES = Object.freeze([
  /** An option is missing, of the wrong type or out of range, or unknown. Thrown at creation. */
  'TB_ERR_INVALID_OPTION',
  /** A cost (or an amount of tokens to give or take) that is not a finite number in range. */
  'TB_ERR_INVALID_COST',
  /** A caller key that is not a non-empty string (or `{ ip }` with an address). */
  'TB_ERR_INVALID_KEY',
  /** Redis answered the take script with something that is not its reply. */
  'TB_ERR_STORE_REPLY',
  /** A key under the store's prefix holds a value of another type (something else writes there). */
  'TB_ERR_STORE_WRONGTYPE',
  /** Redis did not answer within the store's time budget (`timeoutMs`). */
  'TB_ERR_STORE_TIMEOUT',
  /** The Redis client is not connected, or became ready only after the time budget. */
  'TB_ERR_STORE_UNAVAILABLE',
  /** The store's circuit is open after repeated failures: the call was not sent. */
  'TB_ERR_STORE_CIRCUIT_OPEN',
] as const);

/** Stable error codes; match on `error.code`, never on the message text. */
export type TokenBucketErrorCode = (typeof ERROR_CODES)[number];

/**
 * The codes of tokenbucket's warnings, one prefix (`TB_WARN_`). Each names one cause, so each can
 * be silenced alone (`node --disable-warning=TB_WARN_REDIS_OOM`); the message says what was seen
 * and what to do about it.
 */
export const WARNING_CODES = Object.freeze([
  /** A master's `maxmemory-policy` lets Redis evict buckets (an evicted bucket comes back full). */
  'TB_WARN_MEMORY_POLICY',
  /** `maxmemory-policy` could not be read (an ACL without CONFIG). */
  'TB_WARN_MEMORY_POLICY_UNREAD',
  /** The ACL user may not run what a take needs: the keys under the prefix, EVALSHA/EVAL, or TIME. */
  'TB_WARN_REDIS_NOPERM',
  /** The store's client is connected to a read-only replica. */
  'TB_WARN_REDIS_READONLY',
  /** Redis is out of memory (`maxmemory` reached under `noeviction`): allowed takes cannot write. */
  'TB_WARN_REDIS_OOM',
  /** Redis refused the client's credentials (WRONGPASS, NOAUTH). */
  'TB_WARN_REDIS_AUTH',
  /** The client was never connected (node-redis: `connect()` not called or not awaited). */
  'TB_WARN_REDIS_NOT_CONNECTED',
  /** A connection answered nothing while a fresh one to the same Redis answered: it was replaced. */
  'TB_WARN_REDIS_DEAD_CONNECTION',
  /** A callback (onDecision, onStoreError, onStoreStatus, skipResponse) threw or rejected. */
  'TB_WARN_HOOK_FAILED',
  /** A listener given to a store's `subscribe` threw. */
  'TB_WARN_LISTENER_FAILED',
  /** A metrics subscriber failed (said once per subscriber). */
  'TB_WARN_METRICS_FAILED',
  /** More distinct label values than `maxLabelValues`. */
  'TB_WARN_LABEL_VALUES',
  /** @tokenbucket/fastify: routes meant to be limited were registered before the plugin (whose onRoute hook sees only later routes): they are not limited. */
  'TB_WARN_FASTIFY_ROUTE_BEFORE_PLUGIN',
] as const);

/** The code every TokenBucketWarning carries (`warning.code`). */
export type TokenBucketWarningCode = (typeof WARNING_CODES)[number];

/** Where each code is explained: the reference page's section, whose anchor is the code. */
export function docsAnchor(code: TokenBucketErrorCode | TokenBucketWarningCode): string {
  return `docs/reference/errors.md#${code.toLowerCase()}`;
}

/** What each error says before the docs address, so that context can be added before it. */
const said = new WeakMap<TokenBucketError, string>();

/** Every error tokenbucket throws on purpose is a TokenBucketError. */
export class TokenBucketError extends Error {
  readonly code: TokenBucketErrorCode;
  /** The option at fault (`'capacity'`, `'policies[1].name'`, `'cost'`...), when there is one. */
  readonly option: string | undefined;

  /** The message ends with where the code is explained (`(see docs/reference/errors.md#tb_err_invalid_option)`). */
  constructor(code: TokenBucketErrorCode, message: string, option?: string) {
    super(`tokenbucket: ${message} (see ${docsAnchor(code)})`);
    said.set(this, message);
    this.name = 'TokenBucketError';
    this.code = code;
    this.option = option;
  }
}

/**
 * Adds where the error happened to its message (`(config.rateLimit of route GET /x)`), before the
 * docs address, which stays last.
 */
export function addErrorContext(error: TokenBucketError, context: string): void {
  const message = `${said.get(error) ?? error.message} ${context}`;
  said.set(error, message);
  error.message = `tokenbucket: ${message} (see ${docsAnchor(error.code)})`;
}

/** Shows a user-supplied value in an error message without dumping whole objects. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    return value.length > 60 ? `${JSON.stringify(value.slice(0, 60))}... (${value.length} chars)` : JSON.stringify(value);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'function') return 'a function';
  return `an ${typeof value}`;
}

/** Throws TB_ERR_INVALID_OPTION naming the option, the value it got, and what it should be. */
export function invalidOption(option: string, value: unknown, expected: string): never {
  throw new TokenBucketError('TB_ERR_INVALID_OPTION', `option \`${option}\` must be ${expected}; got ${describeValue(value)}.`, option);
}

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

/** Given to `callUserCode` to warn once for a function however often it fails. */
export interface WarnOnce {
  warned: boolean;
}

/**
 * Calls user code (a callback, a store listener, a metrics subscriber), sync or async, and never
 * lets it fail us: a throw or a rejection becomes a TokenBucketWarning with `code`, saying
 * `tokenbucket: <what> threw: <its message>` (only the first time, given `once`). Not awaited.
 */
export function callUserCode(code: TokenBucketWarningCode, what: string, call: () => unknown, once?: WarnOnce): void {
  const failed = (err: unknown): void => {
    if (once !== undefined) {
      if (once.warned) return;
      once.warned = true;
    }
    emitTokenBucketWarning(code, `tokenbucket: ${what} threw: ${err instanceof Error ? err.message : String(err)}`);
  };
  try {
    const result = call();
    if (typeof (result as Promise<unknown> | undefined)?.then === 'function') (result as Promise<unknown>).then(undefined, failed);
  } catch (err) {
    failed(err);
  }
}
