// Errors thrown by tokenbucket: each carries a stable `code` and a message that names the fix.

/** Stable error codes; match on `error.code`, never on the message text. */
export type TokenBucketErrorCode =
  | 'INVALID_OPTION'
  | 'INVALID_COST'
  | 'INVALID_KEY'
  | 'STORE_REPLY'
  | 'STORE_WRONGTYPE'
  | 'STORE_TIMEOUT'
  | 'STORE_UNAVAILABLE'
  | 'STORE_CIRCUIT_OPEN';

/** Every error tokenbucket throws on purpose is a TokenBucketError. */
export class TokenBucketError extends Error {
  readonly code: TokenBucketErrorCode;
  /** The option at fault (`'capacity'`, `'policies[1].name'`, `'cost'`...), when there is one. */
  readonly option: string | undefined;

  constructor(code: TokenBucketErrorCode, message: string, option?: string) {
    super(`tokenbucket: ${message}`);
    this.name = 'TokenBucketError';
    this.code = code;
    this.option = option;
  }
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

/** Throws INVALID_OPTION naming the option, the value it got, and what it should be. */
export function invalidOption(option: string, value: unknown, expected: string): never {
  throw new TokenBucketError('INVALID_OPTION', `option \`${option}\` must be ${expected}; got ${describeValue(value)}.`, option);
}
