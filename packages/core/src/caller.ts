// One caller identity for every path: the id an adapter derives from a request is the id the
// limiter's admin methods derive from the same key.
import { isIP } from 'node:net';
import { describeValue, TokenBucketError } from './errors.js';
import { hashCallerKey } from './hash.js';
import { ipCallerKey, parseIpv6Subnet, type Ipv6Subnet } from './http/ip.js';

/**
 * Who a take is for: the caller's key (an API key, a user id: what the HTTP `key` option or the
 * default `X-API-Key` / Bearer lookup returns), or `{ ip }` for a caller the HTTP layer limited
 * by its IP address (`missingKey: 'ip'`). IPv6 addresses are grouped into their
 * `/ipv6Subnet` network as the HTTP layer does (default 56: give the same value the route's
 * limiter was given).
 */
export type CallerKey = string | { readonly ip: string; readonly ipv6Subnet?: Ipv6Subnet };

/**
 * The caller id of an API key: the first 22 characters of the base64url SHA-256 of the key
 * itself (no prefix), so `limiter.take(key)` and an HTTP request carrying `key` reach the same
 * buckets.
 */
export const keyCallerId = (key: string): string => hashCallerKey(key);

/**
 * The caller id of a client IP (already grouped by `ipCallerKey`): `ip.` and the hash of the
 * address. The `.` never occurs in a key's id (base64url), so a client cannot reach an IP
 * caller's buckets by sending its address as an API key.
 */
export const ipCallerId = (ip: string): string => `ip.${hashCallerKey(ip)}`;

/** The caller id of a CallerKey; throws TB_ERR_INVALID_KEY for anything else. */
export function callerIdOf(key: unknown): string {
  if (typeof key === 'string' && key.length > 0) return keyCallerId(key);
  if (typeof key === 'object' && key !== null && 'ip' in key) {
    const { ip, ipv6Subnet } = key as { ip: unknown; ipv6Subnet?: unknown };
    if (typeof ip !== 'string' || isIP(ip.includes('%') ? ip.slice(0, ip.indexOf('%')) : ip) === 0) {
      throw new TokenBucketError('TB_ERR_INVALID_KEY', `\`{ ip }\` must hold an IPv4 or IPv6 address; got ${describeValue(ip)}.`);
    }
    return ipCallerId(ipCallerKey(ip, parseIpv6Subnet(ipv6Subnet)));
  }
  throw new TokenBucketError(
    'TB_ERR_INVALID_KEY',
    `the caller key must be a non-empty string, or { ip } for a caller limited by IP; got ${describeValue(key)}.`,
  );
}
