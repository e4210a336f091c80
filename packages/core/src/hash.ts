// Turns a caller's raw key (an API key, an IP) into the opaque id used in bucket keys.
import * as crypto from 'node:crypto';

/**
 * SHA-256 as base64url. `crypto.hash` (Node 20.12 and later) hashes a short string in about half
 * the time of `createHash(...).update(...).digest(...)`, which builds a Hash object per call;
 * both give the same digest.
 */
const sha256: (data: string) => string =
  typeof (crypto as { hash?: unknown }).hash === 'function'
    ? (data) => (crypto as unknown as { hash(algorithm: string, data: string, encoding: 'base64url'): string }).hash('sha256', data, 'base64url')
    : (data) => crypto.createHash('sha256').update(data, 'utf8').digest('base64url');

/** Recently hashed keys: a hot caller's key is hashed once, not on every request. */
const recent = new Map<string, string>();
const RECENT_MAX = 4096;
/** Longer keys are hashed every time rather than kept in memory. */
const RECENT_KEY_MAX_LENGTH = 256;

/**
 * SHA-256 of the caller key, base64url, first 22 characters (132 bits). Raw API keys never reach
 * the store, where `SCAN`, `MONITOR` or a memory dump would show them; the id has a fixed
 * length whatever the key's size.
 */
export function hashCallerKey(key: string): string {
  const cached = recent.get(key);
  if (cached !== undefined) return cached;
  const id = sha256(key).slice(0, 22);
  if (key.length <= RECENT_KEY_MAX_LENGTH) {
    // Start over when full: cheaper than evicting one by one, which leaves V8's Map a front of
    // deleted entries to skip on every eviction while keys keep changing.
    if (recent.size >= RECENT_MAX) recent.clear();
    recent.set(key, id);
  }
  return id;
}
