// Turns a caller's raw key (an API key, an IP) into the opaque id used in bucket keys.
import { createHash } from 'node:crypto';

/**
 * SHA-256 of the caller key, base64url, first 22 characters (132 bits). Raw API keys never reach
 * the store, where `SCAN`, `MONITOR` or a memory dump would show them; the id has a fixed
 * length whatever the key's size.
 */
export function hashCallerKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('base64url').slice(0, 22);
}
