// The `lockout` option: lock a caller out after repeated denials.
import { invalidOption } from './errors.js';
import { checkOptionNames, optionNames } from './option-names.js';

/** The `lockout` option of `createLimiter`. */
export interface LockoutOptions {
  /** Denials within `windowSeconds` that lock the caller out: an integer >= 1. */
  after: number;
  /** The window in which those denials count, in seconds (> 0). */
  windowSeconds: number;
  /** How long the lock-out lasts, in seconds (> 0), from the denial that set it. */
  durationSeconds: number;
}

/** The `lockout` option of the HTTP adapters: the same, and the status to answer with. */
export interface HttpLockoutOptions extends LockoutOptions {
  /**
   * The status a locked-out caller is answered with (429, or 403 to say "forbidden for now").
   * @default 429
   */
  status?: 429 | 403;
}

/** The lock-out, validated, in milliseconds. */
export interface LockoutConfig {
  readonly after: number;
  readonly windowMs: number;
  readonly durationMs: number;
  readonly status: 429 | 403;
}

const LOCKOUT_OPTIONS = optionNames<LockoutOptions>({ after: 1, windowSeconds: 1, durationSeconds: 1 });
const HTTP_LOCKOUT_OPTIONS = optionNames<HttpLockoutOptions>({ after: 1, windowSeconds: 1, durationSeconds: 1, status: 1 });

/** Validates a `lockout` option (`http`: the adapters' form, which takes `status`). */
export function parseLockout(lockout: unknown, http = false): LockoutConfig | undefined {
  if (lockout === undefined) return undefined;
  if (typeof lockout !== 'object' || lockout === null) {
    invalidOption('lockout', lockout, `an object { after, windowSeconds, durationSeconds${http ? ', status?' : ''} }`);
  }
  checkOptionNames(lockout, http ? HTTP_LOCKOUT_OPTIONS : LOCKOUT_OPTIONS, 'lockout.');
  const { after, windowSeconds, durationSeconds, status = 429 } = lockout as HttpLockoutOptions;
  if (typeof after !== 'number' || !Number.isSafeInteger(after) || after < 1) {
    invalidOption('lockout.after', after, 'an integer >= 1 (denials that lock the caller out)');
  }
  const windowMs = milliseconds('lockout.windowSeconds', windowSeconds);
  const durationMs = milliseconds('lockout.durationSeconds', durationSeconds);
  if (status !== 429 && status !== 403) invalidOption('lockout.status', status, '429 or 403');
  return Object.freeze({ after, windowMs, durationMs, status });
}

function milliseconds(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 1e9) {
    invalidOption(name, value, 'a number of seconds > 0 and at most 1e9');
  }
  return Math.max(1, Math.round(value * 1000));
}
